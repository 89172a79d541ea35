//! Arithmetic and comparisons: add, sub, Kahan add, mul, div, compaction, equality, counter
//! reset detection, schema changes and the zero-bucket reconciliation they rely on.

use super::bounds::{CUSTOM_BUCKETS_SCHEMA, custom_bucket_bounds_match};
use super::spans::{
    Span, add_buckets, add_custom_buckets_with_mismatches, check_spans, compact_buckets,
    intersect_custom_bounds, reduce_resolution, spans_match,
};
use super::{CounterResetHint, FloatHistogram, HistBucket, HistogramError, OpFlags};

/// One step of Kahan-Neumaier summation: `sum + inc` and the updated compensation `c`
/// (reset to 0 once the sum is infinite), as upstream's `kahansum.Inc`.
pub fn kahan_inc(inc: f64, sum: f64, c: f64) -> (f64, f64) {
    let t = sum + inc;
    let c = if t.is_infinite() {
        0.0
    } else if sum.abs() >= inc.abs() {
        c + ((sum - t) + inc)
    } else {
        c + ((inc - t) + sum)
    };
    (t, c)
}

/// One side of a histogram as owned spans, buckets and compensation terms.
type Side = (Vec<Span>, Vec<f64>, Vec<f64>);

impl FloatHistogram {
    /// Upstream's `Copy`: a custom-bucket histogram drops zero bucket and negative side, an
    /// exponential one its custom values.
    pub(super) fn go_copy(&self) -> FloatHistogram {
        let mut c = self.clone();
        if self.uses_custom_buckets() {
            c.zero_threshold = 0.0;
            c.zero_count = 0.0;
            c.negative_spans.clear();
            c.negative_buckets.clear();
        } else {
            c.custom_values.clear();
        }
        c
    }

    /// Multiplies all counts and the sum by `factor` (upstream's `Mul`); a negative factor
    /// makes the histogram a gauge.
    pub fn mul(&mut self, factor: f64) {
        self.zero_count *= factor;
        self.count *= factor;
        self.sum *= factor;
        for b in self
            .positive_buckets
            .iter_mut()
            .chain(self.negative_buckets.iter_mut())
        {
            *b *= factor;
        }
        if factor < 0.0 {
            self.counter_reset_hint = CounterResetHint::Gauge;
        }
    }

    /// Divides all counts and the sum by `divisor` (upstream's `Div`). Dividing by zero
    /// turns zero count, count and sum into ±Inf or NaN and removes all buckets; a negative
    /// divisor makes the histogram a gauge.
    pub fn div(&mut self, divisor: f64) {
        self.zero_count /= divisor;
        self.count /= divisor;
        self.sum /= divisor;
        if divisor == 0.0 {
            self.positive_buckets.clear();
            self.negative_buckets.clear();
            self.positive_spans.clear();
            self.negative_spans.clear();
            return;
        }
        for b in self
            .positive_buckets
            .iter_mut()
            .chain(self.negative_buckets.iter_mut())
        {
            *b /= divisor;
        }
        if divisor < 0.0 {
            self.counter_reset_hint = CounterResetHint::Gauge;
        }
    }

    /// True if any count, the sum, a bucket or a custom bound is infinite (an aggregation
    /// overflowed f64).
    pub fn has_overflow(&self) -> bool {
        [self.zero_count, self.count, self.sum]
            .iter()
            .chain(&self.positive_buckets)
            .chain(&self.negative_buckets)
            .chain(&self.custom_values)
            .any(|v| v.is_infinite())
    }

    /// Removes empty buckets at the edges of spans and runs of more than `max_empty_buckets`
    /// inside them, and merges spans at most `max_empty_buckets` apart (upstream's
    /// `Compact`). `compact(0)` leaves no empty bucket; `usize::MAX` one span per side.
    pub fn compact(&mut self, max_empty_buckets: usize) {
        compact_buckets(
            &mut self.positive_buckets,
            None,
            &mut self.positive_spans,
            max_empty_buckets,
        );
        compact_buckets(
            &mut self.negative_buckets,
            None,
            &mut self.negative_spans,
            max_empty_buckets,
        );
    }

    /// [`compact`](Self::compact) with the compensation terms of `c` kept in step (a bucket
    /// is empty only if its compensation is zero, too).
    pub(super) fn kahan_compact(&mut self, max_empty_buckets: usize, c: &mut FloatHistogram) {
        compact_buckets(
            &mut self.positive_buckets,
            Some(&mut c.positive_buckets),
            &mut self.positive_spans,
            max_empty_buckets,
        );
        compact_buckets(
            &mut self.negative_buckets,
            Some(&mut c.negative_buckets),
            &mut self.negative_spans,
            max_empty_buckets,
        );
        c.positive_spans.clone_from(&self.positive_spans);
        c.negative_spans.clone_from(&self.negative_spans);
    }

    /// Upstream's `Equals`: same schema, zero bucket, bucket layout (zero-length spans aside)
    /// and values, compared bit for bit for counts (so NaN equals NaN); custom bounds only
    /// matter for custom buckets. Meant for compacted histograms: an explicit empty bucket
    /// makes a difference. The counter-reset hint is ignored.
    pub fn equals(&self, other: &FloatHistogram) -> bool {
        let bits_eq = |a: &[f64], b: &[f64]| {
            a.len() == b.len() && a.iter().zip(b).all(|(x, y)| x.to_bits() == y.to_bits())
        };
        self.schema == other.schema
            && self.count.to_bits() == other.count.to_bits()
            && self.sum.to_bits() == other.sum.to_bits()
            && (!self.uses_custom_buckets()
                || custom_bucket_bounds_match(&self.custom_values, &other.custom_values))
            && self.zero_threshold == other.zero_threshold
            && self.zero_count.to_bits() == other.zero_count.to_bits()
            && spans_match(&self.negative_spans, &other.negative_spans)
            && bits_eq(&self.negative_buckets, &other.negative_buckets)
            && spans_match(&self.positive_spans, &other.positive_spans)
            && bits_eq(&self.positive_buckets, &other.positive_buckets)
    }

    /// A copy at the lower (or equal) exponential `target_schema`, buckets merged (upstream's
    /// `CopyToSchema`). The copy's counter-reset hint is unknown unless the schema stays the
    /// same. Where upstream panics (custom buckets on either side, a higher target schema),
    /// this returns an unchanged copy.
    pub fn copy_to_schema(&self, target_schema: i32) -> FloatHistogram {
        if target_schema == self.schema
            || self.uses_custom_buckets()
            || target_schema == CUSTOM_BUCKETS_SCHEMA
            || target_schema > self.schema
        {
            return self.go_copy();
        }
        let (positive_spans, positive_buckets, _) = reduce_resolution(
            &self.positive_spans,
            &self.positive_buckets,
            None,
            self.schema,
            target_schema,
        );
        let (negative_spans, negative_buckets, _) = reduce_resolution(
            &self.negative_spans,
            &self.negative_buckets,
            None,
            self.schema,
            target_schema,
        );
        FloatHistogram {
            schema: target_schema,
            zero_threshold: self.zero_threshold,
            zero_count: self.zero_count,
            count: self.count,
            sum: self.sum,
            positive_spans,
            positive_buckets,
            negative_spans,
            negative_buckets,
            ..FloatHistogram::default()
        }
    }

    /// Reduces the resolution in place to the lower exponential `target_schema` (upstream's
    /// `ReduceResolution`). Fails, leaving the histogram as it was, for custom buckets, a
    /// target that is not lower, or spans that do not match the buckets.
    pub fn reduce_resolution(&mut self, target_schema: i32) -> Result<(), HistogramError> {
        if self.uses_custom_buckets()
            || target_schema == CUSTOM_BUCKETS_SCHEMA
            || target_schema >= self.schema
        {
            return Err(HistogramError::InvalidReduction {
                from: self.schema,
                to: target_schema,
            });
        }
        check_spans(&self.positive_spans, self.positive_buckets.len())?;
        check_spans(&self.negative_spans, self.negative_buckets.len())?;
        (self.positive_spans, self.positive_buckets, _) = reduce_resolution(
            &self.positive_spans,
            &self.positive_buckets,
            None,
            self.schema,
            target_schema,
        );
        (self.negative_spans, self.negative_buckets, _) = reduce_resolution(
            &self.negative_spans,
            &self.negative_buckets,
            None,
            self.schema,
            target_schema,
        );
        self.schema = target_schema;
        Ok(())
    }

    /// `self += other` (upstream's `Add`). Schemas are reconciled to the lower one, zero
    /// buckets to the wider threshold (widened further if it would cut a populated bucket),
    /// different custom bounds to their intersection (flagged). Counter-reset hints: equal
    /// hints stay, a gauge on either side wins, then unknown on either side; `CounterReset`
    /// against `NotCounterReset` gives unknown and is flagged. The result may hold empty
    /// buckets and adjacent spans: [`compact`](Self::compact) it.
    ///
    /// Fails, leaving `self` unchanged, on exponential against custom buckets, or when a
    /// histogram whose resolution has to be reduced has spans that do not match its buckets
    /// (where upstream panics).
    pub fn add(&mut self, other: &FloatHistogram) -> Result<OpFlags, HistogramError> {
        self.add_or_sub(other, false)
    }

    /// `self -= other`, as [`add`](Self::add) otherwise (upstream's `Sub`). The hint follows
    /// the rules of `add`; for PromQL's `-` operator the caller sets it to gauge.
    pub fn sub(&mut self, other: &FloatHistogram) -> Result<OpFlags, HistogramError> {
        self.add_or_sub(other, true)
    }

    fn add_or_sub(
        &mut self,
        other: &FloatHistogram,
        negate: bool,
    ) -> Result<OpFlags, HistogramError> {
        self.check_compatible(other)?;
        let mut flags = OpFlags {
            counter_reset_collision: self.adjust_counter_reset(other),
            ..OpFlags::default()
        };
        if !self.uses_custom_buckets() {
            let (other_zero_count, _) = self.reconcile_zero_buckets(other, None);
            if negate {
                self.zero_count -= other_zero_count;
            } else {
                self.zero_count += other_zero_count;
            }
        }
        if negate {
            self.count -= other.count;
            self.sum -= other.sum;
        } else {
            self.count += other.count;
            self.sum += other.sum;
        }

        if self.uses_custom_buckets() {
            let a = (&self.positive_spans[..], &self.positive_buckets[..]);
            if custom_bucket_bounds_match(&self.custom_values, &other.custom_values) {
                (self.positive_spans, self.positive_buckets, _) = add_buckets(
                    self.schema,
                    self.zero_threshold,
                    negate,
                    false,
                    (a.0, a.1, &[]),
                    (&other.positive_spans, &other.positive_buckets, &[]),
                );
            } else {
                flags.nhcb_bounds_reconciled = true;
                let bounds = intersect_custom_bounds(&self.custom_values, &other.custom_values);
                (self.positive_spans, self.positive_buckets, _) =
                    add_custom_buckets_with_mismatches(
                        negate,
                        (a.0, a.1, &self.custom_values),
                        (
                            &other.positive_spans,
                            &other.positive_buckets,
                            &other.custom_values,
                        ),
                        None,
                        &bounds,
                    );
                self.custom_values = bounds;
            }
            return Ok(flags);
        }

        let (other_pos, other_neg) = self.reconcile_schemas(other, None);
        let other_pos: (&[Span], &[f64]) = match &other_pos {
            Some(s) => (&s.0, &s.1),
            None => (&other.positive_spans, &other.positive_buckets),
        };
        let other_neg: (&[Span], &[f64]) = match &other_neg {
            Some(s) => (&s.0, &s.1),
            None => (&other.negative_spans, &other.negative_buckets),
        };
        (self.positive_spans, self.positive_buckets, _) = add_buckets(
            self.schema,
            self.zero_threshold,
            negate,
            false,
            (&self.positive_spans, &self.positive_buckets, &[]),
            (other_pos.0, other_pos.1, &[]),
        );
        (self.negative_spans, self.negative_buckets, _) = add_buckets(
            self.schema,
            self.zero_threshold,
            negate,
            false,
            (&self.negative_spans, &self.negative_buckets, &[]),
            (other_neg.0, other_neg.1, &[]),
        );
        Ok(flags)
    }

    /// [`add`](Self::add) with Kahan summation (upstream's `KahanAdd`): `comp` holds the
    /// compensation terms of earlier additions (pass `None` the first time) and the new ones
    /// come back, laid out like `self`. The caller finishes with `self.add(&comp)`. Pass back
    /// only what the previous call on the same `self` returned: a compensation with another
    /// layout is padded or cut to `self`'s bucket count, not re-aligned.
    pub fn kahan_add(
        &mut self,
        other: &FloatHistogram,
        comp: Option<FloatHistogram>,
    ) -> Result<(Option<FloatHistogram>, OpFlags), HistogramError> {
        self.check_compatible(other)?;
        let mut flags = OpFlags {
            counter_reset_collision: self.adjust_counter_reset(other),
            ..OpFlags::default()
        };
        let mut c = comp.unwrap_or_else(|| self.new_compensation_histogram());
        // The compensation runs parallel to the buckets; pad a mismatched one with zeros.
        c.positive_buckets.resize(self.positive_buckets.len(), 0.0);
        c.negative_buckets.resize(self.negative_buckets.len(), 0.0);

        if !self.uses_custom_buckets() {
            let (other_zero_count, other_c_zero_count) =
                self.reconcile_zero_buckets(other, Some(&mut c));
            (self.zero_count, c.zero_count) =
                kahan_inc(other_zero_count, self.zero_count, c.zero_count);
            (self.zero_count, c.zero_count) =
                kahan_inc(other_c_zero_count, self.zero_count, c.zero_count);
        }
        (self.count, c.count) = kahan_inc(other.count, self.count, c.count);
        (self.sum, c.sum) = kahan_inc(other.sum, self.sum, c.sum);

        if self.uses_custom_buckets() {
            if custom_bucket_bounds_match(&self.custom_values, &other.custom_values) {
                (
                    self.positive_spans,
                    self.positive_buckets,
                    c.positive_buckets,
                ) = add_buckets(
                    self.schema,
                    self.zero_threshold,
                    false,
                    true,
                    (
                        &self.positive_spans,
                        &self.positive_buckets,
                        &c.positive_buckets,
                    ),
                    (&other.positive_spans, &other.positive_buckets, &[]),
                );
            } else {
                flags.nhcb_bounds_reconciled = true;
                let bounds = intersect_custom_bounds(&self.custom_values, &other.custom_values);
                (
                    self.positive_spans,
                    self.positive_buckets,
                    c.positive_buckets,
                ) = add_custom_buckets_with_mismatches(
                    false,
                    (
                        &self.positive_spans,
                        &self.positive_buckets,
                        &self.custom_values,
                    ),
                    (
                        &other.positive_spans,
                        &other.positive_buckets,
                        &other.custom_values,
                    ),
                    Some(&c.positive_buckets),
                    &bounds,
                );
                c.custom_values.clone_from(&bounds);
                self.custom_values = bounds;
            }
            c.positive_spans.clone_from(&self.positive_spans);
            return Ok((Some(c), flags));
        }

        let (other_pos, other_neg) = self.reconcile_schemas(other, Some(&mut c));
        let other_pos: (&[Span], &[f64], &[f64]) = match &other_pos {
            Some(s) => (&s.0, &s.1, &s.2),
            None => (&other.positive_spans, &other.positive_buckets, &[]),
        };
        let other_neg: (&[Span], &[f64], &[f64]) = match &other_neg {
            Some(s) => (&s.0, &s.1, &s.2),
            None => (&other.negative_spans, &other.negative_buckets, &[]),
        };
        (
            self.positive_spans,
            self.positive_buckets,
            c.positive_buckets,
        ) = add_buckets(
            self.schema,
            self.zero_threshold,
            false,
            true,
            (
                &self.positive_spans,
                &self.positive_buckets,
                &c.positive_buckets,
            ),
            other_pos,
        );
        (
            self.negative_spans,
            self.negative_buckets,
            c.negative_buckets,
        ) = add_buckets(
            self.schema,
            self.zero_threshold,
            false,
            true,
            (
                &self.negative_spans,
                &self.negative_buckets,
                &c.negative_buckets,
            ),
            other_neg,
        );
        c.schema = self.schema;
        c.zero_threshold = self.zero_threshold;
        c.positive_spans.clone_from(&self.positive_spans);
        c.negative_spans.clone_from(&self.negative_spans);
        Ok((Some(c), flags))
    }

    /// A compensation histogram for [`kahan_add`](Self::kahan_add): `self`'s layout, all zero.
    fn new_compensation_histogram(&self) -> FloatHistogram {
        FloatHistogram {
            counter_reset_hint: self.counter_reset_hint,
            schema: self.schema,
            zero_threshold: self.zero_threshold,
            custom_values: self.custom_values.clone(),
            positive_spans: self.positive_spans.clone(),
            positive_buckets: vec![0.0; self.positive_buckets.len()],
            negative_spans: self.negative_spans.clone(),
            negative_buckets: if self.uses_custom_buckets() {
                Vec::new()
            } else {
                vec![0.0; self.negative_buckets.len()]
            },
            ..FloatHistogram::default()
        }
    }

    /// Both exponential or both custom; and whichever side will have its resolution reduced
    /// must have spans that match its buckets (checked before anything changes).
    fn check_compatible(&self, other: &FloatHistogram) -> Result<(), HistogramError> {
        if self.uses_custom_buckets() != other.uses_custom_buckets() {
            return Err(HistogramError::IncompatibleSchema);
        }
        if self.uses_custom_buckets() || self.schema == other.schema {
            return Ok(());
        }
        let reduced = if other.schema < self.schema {
            self
        } else {
            other
        };
        check_spans(&reduced.positive_spans, reduced.positive_buckets.len())?;
        check_spans(&reduced.negative_spans, reduced.negative_buckets.len())
    }

    /// Brings both histograms to the lower schema: `self` (and `c` with it) in place, `other`
    /// into the returned positive and negative sides (`None`: use `other`'s own). Other's
    /// reduced sides carry Kahan compensation terms from the merge when `c` is given.
    fn reconcile_schemas(
        &mut self,
        other: &FloatHistogram,
        c: Option<&mut FloatHistogram>,
    ) -> (Option<Side>, Option<Side>) {
        let kahan = c.is_some();
        if other.schema < self.schema {
            let (from, to) = (self.schema, other.schema);
            match c {
                Some(c) => {
                    (
                        self.positive_spans,
                        self.positive_buckets,
                        c.positive_buckets,
                    ) = reduce_resolution(
                        &self.positive_spans,
                        &self.positive_buckets,
                        Some(&c.positive_buckets),
                        from,
                        to,
                    );
                    (
                        self.negative_spans,
                        self.negative_buckets,
                        c.negative_buckets,
                    ) = reduce_resolution(
                        &self.negative_spans,
                        &self.negative_buckets,
                        Some(&c.negative_buckets),
                        from,
                        to,
                    );
                }
                None => {
                    (self.positive_spans, self.positive_buckets, _) = reduce_resolution(
                        &self.positive_spans,
                        &self.positive_buckets,
                        None,
                        from,
                        to,
                    );
                    (self.negative_spans, self.negative_buckets, _) = reduce_resolution(
                        &self.negative_spans,
                        &self.negative_buckets,
                        None,
                        from,
                        to,
                    );
                }
            }
            self.schema = to;
            (None, None)
        } else if other.schema > self.schema {
            let reduce = |spans: &[Span], buckets: &[f64]| -> Option<Side> {
                if kahan {
                    // Upstream's Kahan path leaves a side without buckets alone.
                    (!buckets.is_empty()).then(|| {
                        let zeros = vec![0.0; buckets.len()];
                        reduce_resolution(spans, buckets, Some(&zeros), other.schema, self.schema)
                    })
                } else {
                    Some(reduce_resolution(
                        spans,
                        buckets,
                        None,
                        other.schema,
                        self.schema,
                    ))
                }
            };
            (
                reduce(&other.positive_spans, &other.positive_buckets),
                reduce(&other.negative_spans, &other.negative_buckets),
            )
        } else {
            (None, None)
        }
    }

    /// Merges `other`'s counter-reset hint into `self`'s for add and sub; true on a
    /// `CounterReset`/`NotCounterReset` collision.
    fn adjust_counter_reset(&mut self, other: &FloatHistogram) -> bool {
        use CounterResetHint::*;
        match (self.counter_reset_hint, other.counter_reset_hint) {
            (a, b) if a == b => false,
            (Gauge, _) => false,
            (_, Gauge) => {
                self.counter_reset_hint = Gauge;
                false
            }
            (Unknown, _) => false,
            (_, Unknown) => {
                self.counter_reset_hint = Unknown;
                false
            }
            _ => {
                self.counter_reset_hint = Unknown;
                true
            }
        }
    }

    /// What the zero count would be with the given larger (or equal) threshold, the
    /// threshold actually needed (moved out to the edge of a populated bucket it would
    /// otherwise cut), and the zero count's Kahan compensation (from `c`, if given, plus that
    /// of this summation). A smaller threshold (upstream panics) changes nothing.
    pub(super) fn zero_count_for_larger_threshold(
        &self,
        larger: f64,
        c: Option<&FloatHistogram>,
    ) -> (f64, f64, f64) {
        let mut c_zero = c.map_or(0.0, |c| c.zero_count);
        if larger <= self.zero_threshold {
            return (self.zero_count, larger.max(self.zero_threshold), c_zero);
        }
        let mut larger = larger;
        'outer: loop {
            let mut zero = self.zero_count;
            for (pos, b) in self.side_buckets(true).enumerate() {
                if b.lower >= larger {
                    break;
                }
                (zero, c_zero) = kahan_inc(b.count, zero, c_zero);
                if let Some(c) = c {
                    (zero, c_zero) = kahan_inc(
                        c.positive_buckets.get(pos).copied().unwrap_or(0.0),
                        zero,
                        c_zero,
                    );
                }
                if b.upper > larger {
                    if b.count != 0.0 {
                        larger = b.upper;
                    }
                    break;
                }
            }
            for (pos, b) in self.side_buckets(false).enumerate() {
                if b.upper <= -larger {
                    break;
                }
                (zero, c_zero) = kahan_inc(b.count, zero, c_zero);
                if let Some(c) = c {
                    (zero, c_zero) = kahan_inc(
                        c.negative_buckets.get(pos).copied().unwrap_or(0.0),
                        zero,
                        c_zero,
                    );
                }
                if b.lower < -larger {
                    if b.count != 0.0 {
                        // The positive side has to be redone with the wider threshold. As
                        // upstream, the compensation summed so far is not reset.
                        larger = -b.lower;
                        continue 'outer;
                    }
                    break;
                }
            }
            return (zero, larger, c_zero);
        }
    }

    /// Empties the buckets inside the zero bucket (their counts are in the zero count
    /// already) and compacts, `c`'s compensation terms alongside.
    fn trim_buckets_in_zero_bucket(&mut self, c: Option<&mut FloatHistogram>) {
        let zt = self.zero_threshold;
        let positive = self.side_buckets(true).take_while(|b| b.lower < zt).count();
        let negative = self
            .side_buckets(false)
            .take_while(|b| b.upper > -zt)
            .count();
        self.positive_buckets
            .iter_mut()
            .take(positive)
            .for_each(|b| *b = 0.0);
        self.negative_buckets
            .iter_mut()
            .take(negative)
            .for_each(|b| *b = 0.0);
        match c {
            Some(c) => {
                c.positive_buckets
                    .iter_mut()
                    .take(positive)
                    .for_each(|b| *b = 0.0);
                c.negative_buckets
                    .iter_mut()
                    .take(negative)
                    .for_each(|b| *b = 0.0);
                self.kahan_compact(0, c);
            }
            None => self.compact(0),
        }
    }

    /// Widens `self`'s zero bucket (and `c`'s with it) until it and `other`'s, as `other`
    /// would have it, share one threshold not inside a populated bucket of either. Returns
    /// the zero count `other` would have with that threshold and its Kahan compensation.
    fn reconcile_zero_buckets(
        &mut self,
        other: &FloatHistogram,
        mut c: Option<&mut FloatHistogram>,
    ) -> (f64, f64) {
        let mut other_zero_count = other.zero_count;
        let mut other_threshold = other.zero_threshold;
        let mut other_c_zero_count = 0.0;
        while other_threshold != self.zero_threshold {
            if !(self.zero_threshold > other_threshold || other_threshold > self.zero_threshold) {
                // A NaN threshold: no progress possible (upstream loops forever).
                break;
            }
            if self.zero_threshold > other_threshold {
                (other_zero_count, other_threshold, other_c_zero_count) =
                    other.zero_count_for_larger_threshold(self.zero_threshold, None);
            }
            if other_threshold > self.zero_threshold {
                let (zero_count, threshold, c_zero_count) =
                    self.zero_count_for_larger_threshold(other_threshold, c.as_deref());
                self.zero_count = zero_count;
                self.zero_threshold = threshold;
                if let Some(c) = c.as_deref_mut() {
                    c.zero_count = c_zero_count;
                }
                self.trim_buckets_in_zero_bucket(c.as_deref_mut());
            }
        }
        (other_zero_count, other_c_zero_count)
    }

    /// True if, going from `previous` to `self`, a counter reset must have happened
    /// (upstream's `DetectReset`): the hint decides if it is `CounterReset` or
    /// `NotCounterReset`; otherwise a reset is a smaller count, zero count or bucket count, a
    /// populated bucket gone, a higher schema, a smaller zero threshold, a zero threshold that
    /// cuts a populated bucket of `previous`, or a switch to custom buckets. A lower schema and
    /// a wider zero bucket are accounted for by merging `previous`'s buckets. Custom buckets
    /// with different bounds are compared on the bounds both have.
    pub fn detect_reset(&self, previous: &FloatHistogram) -> bool {
        match self.counter_reset_hint {
            CounterResetHint::CounterReset => return true,
            CounterResetHint::NotCounterReset => return false,
            // Gauges are treated as counters here, as upstream does.
            CounterResetHint::Unknown | CounterResetHint::Gauge => {}
        }
        if self.count < previous.count {
            return true;
        }
        if self.uses_custom_buckets() {
            if !previous.uses_custom_buckets() {
                return true;
            }
            if !custom_bucket_bounds_match(&self.custom_values, &previous.custom_values) {
                return self.detect_reset_with_mismatched_custom_bounds(previous);
            }
        }
        if self.schema > previous.schema || self.zero_threshold < previous.zero_threshold {
            return true;
        }
        let (previous_zero_count, threshold, _) =
            previous.zero_count_for_larger_threshold(self.zero_threshold, None);
        if threshold != self.zero_threshold || self.zero_count < previous_zero_count {
            return true;
        }
        [true, false].into_iter().any(|positive| {
            side_reset(
                self.merged_buckets(positive, self.zero_threshold, self.schema),
                previous.merged_buckets(positive, self.zero_threshold, self.schema),
            )
        })
    }

    /// Reset detection between custom-bucket histograms with different bounds: at every
    /// bound both have (and +Inf), the counts since the previous shared bound must not have
    /// gone down.
    fn detect_reset_with_mismatched_custom_bounds(&self, previous: &FloatHistogram) -> bool {
        /// Sum of the buckets ending at or below `bound`, from where `state` stands.
        fn rollup(
            it: &mut dyn Iterator<Item = HistBucket>,
            state: &mut RollupState,
            bound: f64,
        ) -> f64 {
            if !state.started {
                state.started = true;
                match it.next() {
                    Some(b) => state.bucket = b,
                    None => {
                        state.more = false;
                        return 0.0;
                    }
                }
            }
            let mut sum = 0.0;
            while state.bucket.upper <= bound {
                sum += state.bucket.count;
                match it.next() {
                    Some(b) => state.bucket = b,
                    None => {
                        state.more = false;
                        return sum;
                    }
                }
            }
            state.more = true;
            sum
        }
        let (curr_bounds, prev_bounds) = (&self.custom_values, &previous.custom_values);
        let mut curr_it = self.side_buckets(true);
        let mut prev_it = previous.side_buckets(true);
        let mut curr = RollupState::default();
        let mut prev = RollupState::default();
        let (mut ci, mut pi) = (0, 0);
        while ci <= curr_bounds.len() && pi <= prev_bounds.len() {
            let cb = curr_bounds.get(ci).copied().unwrap_or(f64::INFINITY);
            let pb = prev_bounds.get(pi).copied().unwrap_or(f64::INFINITY);
            if cb == pb {
                let curr_sum = if !curr.started || curr.more {
                    rollup(&mut curr_it, &mut curr, cb)
                } else {
                    0.0
                };
                let prev_sum = if !prev.started || prev.more {
                    rollup(&mut prev_it, &mut prev, cb)
                } else {
                    0.0
                };
                if curr_sum < prev_sum {
                    return true;
                }
                ci += 1;
                pi += 1;
            } else if cb < pb {
                ci += 1;
            } else {
                pi += 1;
            }
        }
        false
    }
}

/// Where a walk over buckets stands in reset detection with mismatched custom bounds.
#[derive(Default)]
struct RollupState {
    started: bool,
    more: bool,
    bucket: HistBucket,
}

/// Reset detection on one side, both iterators at the same schema: a bucket of `prev` that
/// is populated but missing from `curr`, or has a higher count there, is a reset.
fn side_reset(
    mut curr: impl Iterator<Item = (i32, f64)>,
    prev: impl Iterator<Item = (i32, f64)>,
) -> bool {
    let mut cur = curr.next();
    for (p_idx, p_count) in prev {
        while let Some((c_idx, _)) = cur {
            if c_idx >= p_idx {
                break;
            }
            cur = curr.next();
        }
        match cur {
            Some((c_idx, c_count)) if c_idx == p_idx => {
                if c_count < p_count {
                    return true;
                }
            }
            _ => {
                if p_count != 0.0 {
                    return true;
                }
            }
        }
    }
    false
}
