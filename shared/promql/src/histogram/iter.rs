//! Walking the buckets of a histogram: explicit buckets with their indices, merged down to a
//! lower schema, with bounds, and all of them in ascending or descending order of value.

use super::bounds::{get_bound, get_bound_exponential, is_exponential_schema, target_idx};
use super::{FloatHistogram, HistBucket};

/// The explicit buckets of one side as `(index, count)`, in the order stored (ascending
/// index for valid spans). Stops where either spans or buckets run out.
#[derive(Debug, Clone)]
pub(super) struct RawBuckets<'a> {
    spans: &'a [(i32, u32)],
    buckets: &'a [f64],
    span: usize,
    in_span: u32,
    pos: usize,
    idx: i32,
}

impl<'a> RawBuckets<'a> {
    pub(super) fn new(spans: &'a [(i32, u32)], buckets: &'a [f64]) -> Self {
        let idx = spans.first().map_or(0, |s| s.0);
        RawBuckets {
            spans,
            buckets,
            span: 0,
            in_span: 0,
            pos: 0,
            idx,
        }
    }
}

impl Iterator for RawBuckets<'_> {
    type Item = (i32, f64);

    fn next(&mut self) -> Option<(i32, f64)> {
        let count = *self.buckets.get(self.pos)?;
        // Skip spans that are used up (including ones of length 0).
        while self.in_span >= self.spans.get(self.span)?.1 {
            self.idx = self.idx.wrapping_add(self.spans.get(self.span + 1)?.0);
            self.span += 1;
            self.in_span = 0;
        }
        let idx = self.idx;
        self.idx = self.idx.wrapping_add(1);
        self.in_span += 1;
        self.pos += 1;
        Some((idx, count))
    }
}

/// Upstream's forward bucket iterator: the explicit buckets of one side merged into
/// `target` schema (≤ the histogram's), skipping, for exponential schemas, the leading
/// buckets whose upper bound is at most `abs_start`.
#[derive(Debug, Clone)]
pub(super) struct MergedBuckets<'a> {
    raw: std::iter::Peekable<RawBuckets<'a>>,
    schema: i32,
    target: i32,
    abs_start: f64,
    reached_start: bool,
}

impl<'a> MergedBuckets<'a> {
    pub(super) fn new(
        spans: &'a [(i32, u32)],
        buckets: &'a [f64],
        schema: i32,
        target: i32,
        abs_start: f64,
    ) -> Self {
        MergedBuckets {
            raw: RawBuckets::new(spans, buckets).peekable(),
            schema,
            target,
            abs_start,
            reached_start: abs_start == 0.0,
        }
    }
}

impl Iterator for MergedBuckets<'_> {
    type Item = (i32, f64);

    fn next(&mut self) -> Option<(i32, f64)> {
        loop {
            let (idx, first) = self.raw.next()?;
            let (idx, count) = if self.schema == self.target {
                (idx, first)
            } else {
                let t = target_idx(idx, self.schema, self.target);
                // Summed from zero as upstream does (so a lone -0 becomes +0).
                let mut count = 0.0 + first;
                while let Some(&(next_idx, c)) = self.raw.peek() {
                    if target_idx(next_idx, self.schema, self.target) != t {
                        break;
                    }
                    count += c;
                    self.raw.next();
                }
                (t, count)
            };
            if !self.reached_start
                && is_exponential_schema(self.target)
                && get_bound_exponential(idx, self.target) <= self.abs_start
            {
                continue;
            }
            self.reached_start = true;
            return Some((idx, count));
        }
    }
}

/// Bucket `idx` of one side with its bounds and inclusiveness.
pub(super) fn bucket_at(
    idx: i32,
    count: f64,
    schema: i32,
    positive: bool,
    custom: &[f64],
) -> HistBucket {
    let (lower, upper) = if positive {
        (
            get_bound(idx.wrapping_sub(1), schema, custom),
            get_bound(idx, schema, custom),
        )
    } else {
        (
            -get_bound(idx, schema, custom),
            -get_bound(idx.wrapping_sub(1), schema, custom),
        )
    };
    let (lower_inclusive, upper_inclusive) = if schema == super::CUSTOM_BUCKETS_SCHEMA {
        (idx == 0, true)
    } else {
        (lower < 0.0, upper > 0.0)
    };
    HistBucket {
        lower,
        upper,
        count,
        lower_inclusive,
        upper_inclusive,
        index: idx,
    }
}

impl FloatHistogram {
    /// Buckets of one side (positive or negative) in ascending index order, at the
    /// histogram's own schema.
    pub(super) fn side_buckets(&self, positive: bool) -> impl Iterator<Item = HistBucket> + '_ {
        let (spans, buckets, custom): (&[(i32, u32)], &[f64], &[f64]) = if positive {
            (
                &self.positive_spans,
                &self.positive_buckets,
                &self.custom_values,
            )
        } else {
            (&self.negative_spans, &self.negative_buckets, &[])
        };
        let schema = self.schema;
        RawBuckets::new(spans, buckets).map(move |(i, c)| bucket_at(i, c, schema, positive, custom))
    }

    /// Upstream's `floatBucketIterator`: `(index, count)` of one side merged into
    /// `target_schema`, skipping leading buckets with an upper bound ≤ `abs_start`.
    pub(super) fn merged_buckets(
        &self,
        positive: bool,
        abs_start: f64,
        target_schema: i32,
    ) -> MergedBuckets<'_> {
        let (spans, buckets): (&[(i32, u32)], &[f64]) = if positive {
            (&self.positive_spans, &self.positive_buckets)
        } else {
            (&self.negative_spans, &self.negative_buckets)
        };
        MergedBuckets::new(spans, buckets, self.schema, target_schema, abs_start)
    }

    /// The zero bucket `[-threshold, threshold]`; `None` for custom buckets, which have none.
    pub fn zero_bucket(&self) -> Option<HistBucket> {
        (!self.uses_custom_buckets()).then_some(HistBucket {
            lower: -self.zero_threshold,
            upper: self.zero_threshold,
            count: self.zero_count,
            lower_inclusive: true,
            upper_inclusive: true,
            index: 0,
        })
    }

    /// Bounds of a bucket next to the zero bucket narrowed to the zero threshold, as
    /// upstream's all-bucket iterators do.
    fn clamp_to_zero_bucket(&self, mut b: HistBucket) -> HistBucket {
        let zt = self.zero_threshold;
        if b.upper < 0.0 && b.upper > -zt {
            b.upper = -zt;
        } else if b.lower > 0.0 && b.lower < zt {
            b.lower = zt;
        }
        b
    }

    /// All buckets in ascending order of value (upstream's `AllBucketIterator`): negative
    /// buckets from the most negative up, the zero bucket if it has a positive count, then
    /// the positive buckets. Empty explicit buckets are included. Negative buckets of a
    /// custom-bucket histogram (invalid) are left out.
    pub fn all_buckets(&self) -> Vec<HistBucket> {
        let mut out =
            Vec::with_capacity(self.positive_buckets.len() + self.negative_buckets.len() + 1);
        if !self.uses_custom_buckets() {
            let negative: Vec<HistBucket> = self.side_buckets(false).collect();
            out.extend(
                negative
                    .into_iter()
                    .rev()
                    .map(|b| self.clamp_to_zero_bucket(b)),
            );
        }
        if self.zero_count > 0.0 {
            out.extend(self.zero_bucket());
        }
        out.extend(
            self.side_buckets(true)
                .map(|b| self.clamp_to_zero_bucket(b)),
        );
        out
    }

    /// All buckets in descending order of value (upstream's `AllReverseBucketIterator`).
    pub fn all_buckets_reverse(&self) -> Vec<HistBucket> {
        let mut out =
            Vec::with_capacity(self.positive_buckets.len() + self.negative_buckets.len() + 1);
        let positive: Vec<HistBucket> = self.side_buckets(true).collect();
        out.extend(
            positive
                .into_iter()
                .rev()
                .map(|b| self.clamp_to_zero_bucket(b)),
        );
        if self.zero_count > 0.0 {
            out.extend(self.zero_bucket());
        }
        if !self.uses_custom_buckets() {
            out.extend(
                self.side_buckets(false)
                    .map(|b| self.clamp_to_zero_bucket(b)),
            );
        }
        out
    }
}
