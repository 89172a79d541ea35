//! Bucket-layout algorithms on one side of a histogram (spans plus absolute counts, and
//! optionally a parallel slice of Kahan compensation terms): merging another side in,
//! reducing resolution, compaction, and mapping custom buckets onto shared bounds.

use super::HistogramError;
use super::bounds::{get_bound_exponential, is_exponential_schema, target_idx};
use super::iter::RawBuckets;
use super::ops::kahan_inc;

/// `(offset, length)` as in [`super::FloatHistogram::positive_spans`].
pub(super) type Span = (i32, u32);

/// Checks spans against buckets as upstream's `reduceResolution` does: no negative offset
/// after the first span, and exactly as many buckets as the spans describe.
pub(super) fn check_spans(spans: &[Span], buckets: usize) -> Result<(), HistogramError> {
    let mut need = 0usize;
    for (n, &(offset, len)) in spans.iter().enumerate() {
        if n > 0 && offset < 0 {
            return Err(HistogramError::SpanNegativeOffset {
                span: n + 1,
                offset,
            });
        }
        need += len as usize;
        if need > buckets {
            return Err(HistogramError::TooFewBuckets { have: buckets });
        }
    }
    if need != buckets {
        return Err(HistogramError::SpansBucketsMismatch {
            need,
            have: buckets,
        });
    }
    Ok(())
}

/// One side reduced from `origin` to the lower `target` schema: buckets falling into the
/// same target bucket are summed (with Kahan summation of the compensation terms in `comp`,
/// if given). Spans must have been checked with [`check_spans`].
pub(super) fn reduce_resolution(
    spans: &[Span],
    buckets: &[f64],
    comp: Option<&[f64]>,
    origin: i32,
    target: i32,
) -> (Vec<Span>, Vec<f64>, Vec<f64>) {
    let mut out_spans: Vec<Span> = Vec::new();
    let mut out: Vec<f64> = Vec::with_capacity(buckets.len());
    let mut out_c: Vec<f64> = Vec::new();
    let mut last = 0i32;
    for (pos, (idx, count)) in RawBuckets::new(spans, buckets).enumerate() {
        let c = comp.map(|c| c.get(pos).copied().unwrap_or(0.0));
        let t = target_idx(idx, origin, target);
        match out_spans.last_mut() {
            Some(_) if t == last => {
                let i = out.len() - 1;
                match c {
                    // Kahan: fold both the count and its compensation into the target.
                    Some(c) => {
                        let (s, k) = kahan_inc(count, out[i], out_c[i]);
                        (out[i], out_c[i]) = kahan_inc(c, s, k);
                    }
                    None => out[i] += count,
                }
                continue;
            }
            Some(span) if t == last.wrapping_add(1) => span.1 += 1,
            Some(_) => out_spans.push((t.wrapping_sub(last).wrapping_sub(1), 1)),
            None => out_spans.push((t, 1)),
        }
        last = t;
        out.push(count);
        if let Some(c) = c {
            out_c.push(c);
        }
    }
    (out_spans, out, out_c)
}

/// Side `b` (optionally negated) merged into side `a`, both in `schema`, keeping `a`'s layout
/// and inserting `b`'s other buckets as upstream's `addBuckets` does: a new bucket extends
/// the span that ends right before it, else the span that starts right after it, else it
/// gets a span of its own. For exponential schemas, `b`'s leading buckets with an upper bound
/// ≤ `threshold` are skipped (they are in the zero bucket already).
///
/// With `kahan`, counts are added with Kahan summation into the compensation terms, `a_comp`
/// and `b_comp` run parallel to the buckets, and the third result holds the new compensation
/// terms (it is empty otherwise).
#[allow(clippy::too_many_arguments)]
pub(super) fn add_buckets(
    schema: i32,
    threshold: f64,
    negate: bool,
    kahan: bool,
    (a_spans, a_buckets, a_comp): (&[Span], &[f64], &[f64]),
    (b_spans, b_buckets, b_comp): (&[Span], &[f64], &[f64]),
) -> (Vec<Span>, Vec<f64>, Vec<f64>) {
    let sign = if negate { -1.0 } else { 1.0 };
    let skip_low = is_exponential_schema(schema);
    let mut b_iter = RawBuckets::new(b_spans, b_buckets)
        .enumerate()
        .skip_while(|(_, (idx, _))| skip_low && get_bound_exponential(*idx, schema) <= threshold)
        .map(|(pos, (idx, v))| {
            (
                idx,
                v * sign,
                b_comp.get(pos).copied().unwrap_or(0.0) * sign,
            )
        })
        .peekable();

    let mut out = Merged {
        spans: Vec::with_capacity(a_spans.len() + 1),
        buckets: Vec::with_capacity(a_buckets.len().max(b_buckets.len())),
        comp: Vec::new(),
        kahan,
        absorb_next: false,
    };

    // Walk a's spans with absolute start indices.
    let mut a_pos = 0usize;
    let mut start = 0i32;
    for (n, &(offset, len)) in a_spans.iter().enumerate() {
        start = if n == 0 {
            offset
        } else {
            start.wrapping_add(offset)
        };
        // b's buckets in the gap before this span.
        while let Some(&(idx, v, c)) = b_iter.peek() {
            if idx >= start {
                break;
            }
            out.insert_new(idx, v, c, Some(start));
            b_iter.next();
        }
        out.open_a_span(start, len);
        for j in 0..len {
            let idx = start.wrapping_add(j as i32);
            let (Some(&a), c) = (
                a_buckets.get(a_pos),
                a_comp.get(a_pos).copied().unwrap_or(0.0),
            ) else {
                break;
            };
            a_pos += 1;
            let (mut v, mut vc) = (a, c);
            if let Some(&(b_idx, b, bc)) = b_iter.peek()
                && b_idx == idx
            {
                if kahan {
                    (v, vc) = kahan_inc(b, v, vc);
                    if bc != 0.0 {
                        (v, vc) = kahan_inc(bc, v, vc);
                    }
                } else {
                    v += b;
                }
                b_iter.next();
            }
            out.buckets.push(v);
            if kahan {
                out.comp.push(vc);
            }
        }
        start = start.wrapping_add(len as i32);
    }
    for (idx, v, c) in b_iter {
        out.insert_new(idx, v, c, None);
    }
    let spans = out
        .spans
        .iter()
        .scan(None::<i64>, |end, &(s, l)| {
            let offset = match *end {
                None => s,
                Some(e) => (i64::from(s) - e) as i32,
            };
            *end = Some(i64::from(s) + i64::from(l));
            Some((offset, l))
        })
        .collect();
    (spans, out.buckets, out.comp)
}

/// Output of [`add_buckets`] under construction, spans with absolute starts.
struct Merged {
    spans: Vec<(i32, u32)>,
    buckets: Vec<f64>,
    comp: Vec<f64>,
    kahan: bool,
    /// The last span was started right before the next span of `a` and takes it in.
    absorb_next: bool,
}

impl Merged {
    /// A bucket only `b` has, at `idx`; `next_a_start` is where `a`'s next span starts.
    fn insert_new(&mut self, idx: i32, v: f64, c: f64, next_a_start: Option<i32>) {
        match self.spans.last_mut() {
            Some(last) if i64::from(last.0) + i64::from(last.1) == i64::from(idx) => last.1 += 1,
            _ => {
                self.absorb_next = next_a_start.is_some_and(|s| i64::from(s) == i64::from(idx) + 1);
                self.spans.push((idx, 1));
            }
        }
        self.buckets.push(v);
        if self.kahan {
            self.comp.push(c);
        }
    }

    /// `a`'s next span, joining the span started right before it if there is one.
    fn open_a_span(&mut self, start: i32, len: u32) {
        match self.spans.last_mut() {
            Some(last) if self.absorb_next => last.1 += len,
            _ => self.spans.push((start, len)),
        }
        self.absorb_next = false;
    }
}

/// Upstream's `compactBuckets` on absolute counts: drops empty buckets (count and, if given,
/// compensation both zero) at the edges of spans and runs of more than `max_empty` inside
/// them, and merges spans at most `max_empty` apart, filling the gap with zeros. A run of
/// empty buckets kept inside a span keeps its stored values.
pub(super) fn compact_buckets(
    buckets: &mut Vec<f64>,
    comp: Option<&mut Vec<f64>>,
    spans: &mut Vec<Span>,
    max_empty: usize,
) {
    let entries: Vec<(i32, f64, f64)> = RawBuckets::new(spans, buckets)
        .enumerate()
        .map(|(pos, (idx, v))| {
            (
                idx,
                v,
                comp.as_deref()
                    .and_then(|c| c.get(pos))
                    .copied()
                    .unwrap_or(0.0),
            )
        })
        .collect();
    let max_empty = u64::try_from(max_empty).unwrap_or(u64::MAX);

    let mut new_spans: Vec<Span> = Vec::new();
    let mut new_buckets: Vec<f64> = Vec::with_capacity(entries.len());
    let mut new_comp: Vec<f64> = Vec::new();
    let mut last: Option<i32> = None;
    // Empty entries seen since the last non-empty one.
    let mut pending: Vec<(i32, f64, f64)> = Vec::new();
    for &(idx, v, c) in &entries {
        if v == 0.0 && c == 0.0 {
            pending.push((idx, v, c));
            continue;
        }
        match last {
            None => new_spans.push((idx, 1)),
            Some(prev) => {
                let gap = i64::from(idx) - i64::from(prev) - 1;
                match new_spans.last_mut() {
                    Some(span) if gap >= 0 && (gap as u64) <= max_empty => {
                        // Stored empties are kept only if they fill the whole gap (a run
                        // inside one span); a gap spanning missing buckets gets zeros.
                        let internal = pending.len() as i64 == gap;
                        for k in 0..gap {
                            let (ev, ec) = if internal {
                                (pending[k as usize].1, pending[k as usize].2)
                            } else {
                                (0.0, 0.0)
                            };
                            new_buckets.push(ev);
                            new_comp.push(ec);
                        }
                        span.1 = span.1.saturating_add(gap as u32).saturating_add(1);
                    }
                    _ => new_spans.push((gap as i32, 1)),
                }
            }
        }
        pending.clear();
        new_buckets.push(v);
        new_comp.push(c);
        last = Some(idx);
    }
    *spans = new_spans;
    *buckets = new_buckets;
    if let Some(c) = comp {
        *c = new_comp;
    }
}

/// Intersection of two sets of custom bounds (both ascending).
pub(super) fn intersect_custom_bounds(a: &[f64], b: &[f64]) -> Vec<f64> {
    let (mut i, mut j) = (0, 0);
    let mut out = Vec::new();
    while i < a.len() && j < b.len() {
        if a[i] == b[j] {
            out.push(a[i]);
            i += 1;
            j += 1;
        } else if a[i] < b[j] {
            i += 1;
        } else {
            j += 1;
        }
    }
    out
}

/// Adds (or with `negate` subtracts) custom-bucket side `b` to side `a` after mapping both
/// onto `bounds` (the intersection of theirs): each bucket goes into the first target bucket
/// whose upper bound is at least its own, past the last bound into the +Inf bucket. Sums use
/// Kahan summation; `a_comp`, if given, is folded in. Target buckets whose sum and
/// compensation are both zero are left out. Returns spans, buckets and compensation terms.
pub(super) fn add_custom_buckets_with_mismatches(
    negate: bool,
    (a_spans, a_buckets, a_bounds): (&[Span], &[f64], &[f64]),
    (b_spans, b_buckets, b_bounds): (&[Span], &[f64], &[f64]),
    a_comp: Option<&[f64]>,
    bounds: &[f64],
) -> (Vec<Span>, Vec<f64>, Vec<f64>) {
    let mut target = vec![0.0; bounds.len() + 1];
    let mut target_c = vec![0.0; bounds.len() + 1];
    let inf_bucket = bounds.len();

    let mut map_side = |spans: &[Span],
                        buckets: &[f64],
                        src_bounds: &[f64],
                        negate: bool,
                        comp: Option<&[f64]>| {
        let mut cursor = 0usize;
        for (pos, (idx, value)) in RawBuckets::new(spans, buckets).enumerate() {
            let mut t = inf_bucket;
            if let Some(&src_bound) = usize::try_from(idx).ok().and_then(|i| src_bounds.get(i)) {
                // Both bound lists ascend, so the search resumes where it stopped.
                while cursor < bounds.len() {
                    if bounds[cursor] >= src_bound {
                        t = cursor;
                        break;
                    }
                    cursor += 1;
                }
            }
            let inc = if negate { -value } else { value };
            (target[t], target_c[t]) = kahan_inc(inc, target[t], target_c[t]);
            if let Some(c) = comp.and_then(|c| c.get(pos)) {
                (target[t], target_c[t]) = kahan_inc(*c, target[t], target_c[t]);
            }
        }
    };
    map_side(a_spans, a_buckets, a_bounds, false, a_comp);
    map_side(b_spans, b_buckets, b_bounds, negate, None);

    let mut spans: Vec<Span> = Vec::new();
    let mut out = Vec::new();
    let mut out_c = Vec::new();
    let mut last: Option<usize> = None;
    for (i, (&v, &c)) in target.iter().zip(&target_c).enumerate() {
        if v == 0.0 && c == 0.0 {
            continue;
        }
        out.push(v);
        out_c.push(c);
        match (last, spans.last_mut()) {
            (Some(l), Some(span)) if i == l + 1 => span.1 += 1,
            (Some(l), _) => spans.push(((i - l - 1) as i32, 1)),
            (None, _) => spans.push((i as i32, 1)),
        }
        last = Some(i);
    }
    (spans, out, out_c)
}

/// Upstream's `spansMatch`: the same layout, ignoring zero-length spans in between (whose
/// offsets are folded into the next span).
pub(super) fn spans_match(a: &[Span], b: &[Span]) -> bool {
    let normalise = |spans: &[Span]| -> Vec<Span> {
        let mut out = Vec::with_capacity(spans.len());
        let mut carry = 0i32;
        for &(offset, len) in spans {
            if len == 0 {
                carry = carry.wrapping_add(offset);
                continue;
            }
            out.push((offset.wrapping_add(carry), len));
            carry = 0;
        }
        out
    };
    normalise(a) == normalise(b)
}
