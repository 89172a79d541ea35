//! Native histograms as the engine sees them: float counts with absolute bucket values.
//!
//! Only the representation and the accessors selectors and `histogram_count`/`_sum`/`_avg`
//! need are here; the arithmetic of native histograms (add, rate, quantile) is a known gap.

/// How a histogram relates to the previous one of its series.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum CounterResetHint {
    /// Not known.
    #[default]
    Unknown,
    /// A counter reset happened.
    CounterReset,
    /// No counter reset happened.
    NotCounterReset,
    /// A gauge histogram.
    Gauge,
}

/// A native histogram with float counts.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct FloatHistogram {
    /// Resolution schema; -53 marks custom buckets.
    pub schema: i32,
    /// Width of the zero bucket.
    pub zero_threshold: f64,
    /// Observations in the zero bucket.
    pub zero_count: f64,
    /// Total observations.
    pub count: f64,
    /// Sum of observations.
    pub sum: f64,
    /// Spans of populated positive buckets `(offset, length)`.
    pub positive_spans: Vec<(i32, u32)>,
    /// Absolute counts of the positive buckets.
    pub positive_buckets: Vec<f64>,
    /// Spans of populated negative buckets.
    pub negative_spans: Vec<(i32, u32)>,
    /// Absolute counts of the negative buckets.
    pub negative_buckets: Vec<f64>,
    /// Counter-reset hint.
    pub counter_reset_hint: CounterResetHint,
    /// Upper bounds of custom buckets (schema -53).
    pub custom_values: Vec<f64>,
}

impl FloatHistogram {
    /// True for a histogram with custom bucket bounds.
    pub fn uses_custom_buckets(&self) -> bool {
        self.schema == -53
    }
}

/// `h` with every count and the sum multiplied by `factor`.
pub fn scale(h: &FloatHistogram, factor: f64) -> FloatHistogram {
    let mut out = h.clone();
    out.zero_count *= factor;
    out.count *= factor;
    out.sum *= factor;
    for b in out
        .positive_buckets
        .iter_mut()
        .chain(out.negative_buckets.iter_mut())
    {
        *b *= factor;
    }
    out
}

/// One bucket of a histogram as the HTTP API lists it.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct BucketView {
    /// Prometheus's boundary rule: 0 `(l,u]`, 1 `[l,u)`, 2 `(l,u)`, 3 `[l,u]`.
    pub boundaries: u8,
    /// Lower bound.
    pub lower: f64,
    /// Upper bound.
    pub upper: f64,
    /// Count in the bucket (not cumulative).
    pub count: f64,
}

impl FloatHistogram {
    /// Upper bound of exponential bucket `index` at this schema.
    fn exp_bound(&self, index: i32) -> f64 {
        // base = 2^(2^-schema); bound = base^index.
        let exponent = f64::from(index) * 2f64.powi(-self.schema);
        2f64.powf(exponent)
    }

    /// Non-empty buckets in ascending order: negative, zero, positive (custom buckets in
    /// their own order), as the HTTP API lists them.
    pub fn buckets(&self) -> Vec<BucketView> {
        let mut out = Vec::new();
        if self.uses_custom_buckets() {
            let mut idx: i32 = 0;
            let mut k = 0;
            for (offset, len) in &self.positive_spans {
                idx += offset;
                for _ in 0..*len {
                    let count = self.positive_buckets.get(k).copied().unwrap_or(0.0);
                    k += 1;
                    let i = idx as usize;
                    let lower = if i == 0 {
                        f64::NEG_INFINITY
                    } else {
                        self.custom_values
                            .get(i - 1)
                            .copied()
                            .unwrap_or(f64::INFINITY)
                    };
                    let upper = self.custom_values.get(i).copied().unwrap_or(f64::INFINITY);
                    if count != 0.0 {
                        out.push(BucketView {
                            boundaries: 0,
                            lower,
                            upper,
                            count,
                        });
                    }
                    idx += 1;
                }
            }
            return out;
        }
        let mut negative = Vec::new();
        let mut idx: i32 = 0;
        let mut k = 0;
        for (offset, len) in &self.negative_spans {
            idx += offset;
            for _ in 0..*len {
                let count = self.negative_buckets.get(k).copied().unwrap_or(0.0);
                k += 1;
                if count != 0.0 {
                    negative.push(BucketView {
                        boundaries: 1,
                        lower: -self.exp_bound(idx),
                        upper: -self.exp_bound(idx - 1),
                        count,
                    });
                }
                idx += 1;
            }
        }
        negative.reverse();
        out.extend(negative);
        if self.zero_count != 0.0 {
            out.push(BucketView {
                boundaries: 3,
                lower: -self.zero_threshold,
                upper: self.zero_threshold,
                count: self.zero_count,
            });
        }
        let mut idx: i32 = 0;
        let mut k = 0;
        for (offset, len) in &self.positive_spans {
            idx += offset;
            for _ in 0..*len {
                let count = self.positive_buckets.get(k).copied().unwrap_or(0.0);
                k += 1;
                if count != 0.0 {
                    out.push(BucketView {
                        boundaries: 0,
                        lower: self.exp_bound(idx - 1),
                        upper: self.exp_bound(idx),
                        count,
                    });
                }
                idx += 1;
            }
        }
        out
    }
}
