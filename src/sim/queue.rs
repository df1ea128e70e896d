//! The event queue: a min-heap ordered by (time, insertion sequence), so events at the same
//! microsecond run in the order they were scheduled, on every target.
//!
//! Hand-written rather than `std::collections::BinaryHeap` because it is the hottest structure
//! of the model: both halves of the order live in one `u128` key (one comparison instead of two),
//! and sifting moves a "hole" instead of swapping, so each level costs one copy.

use super::time::SimTime;

#[derive(Clone, Copy)]
struct Entry<E> {
    /// `at` in the high 64 bits, the insertion sequence in the low 64 bits.
    key: u128,
    event: E,
}

pub struct EventQueue<E> {
    heap: Vec<Entry<E>>,
    /// At most one event kept beside the heap and replaced, not added, when rescheduled: the
    /// next client arrival, due once per request, so it skips a heap push and pop each time.
    single: Option<Entry<E>>,
    next_seq: u64,
}

impl<E: Copy> EventQueue<E> {
    pub fn new() -> Self {
        EventQueue { heap: Vec::with_capacity(1024), single: None, next_seq: 0 }
    }

    fn next_key(&mut self, at: SimTime) -> u128 {
        let key = ((at as u128) << 64) | self.next_seq as u128;
        self.next_seq += 1;
        key
    }

    /// Schedule the single event, replacing the pending one if any. It keeps the same order as
    /// a heap event pushed now: time, then insertion.
    pub fn schedule_single(&mut self, at: SimTime, event: E) {
        let key = self.next_key(at);
        self.single = Some(Entry { key, event });
    }

    pub fn cancel_single(&mut self) {
        self.single = None;
    }

    pub fn push(&mut self, at: SimTime, event: E) {
        let key = self.next_key(at);
        // Sift up: move parents down into the hole until the new key's place is found.
        let entry = Entry { key, event };
        let mut hole = self.heap.len();
        self.heap.push(entry);
        while hole > 0 {
            let parent = (hole - 1) / 2;
            if self.heap[parent].key <= key {
                break;
            }
            self.heap[hole] = self.heap[parent];
            hole = parent;
        }
        self.heap[hole] = entry;
    }

    pub fn peek_time(&self) -> Option<SimTime> {
        let first = match (self.heap.first(), &self.single) {
            (Some(h), Some(s)) => h.key.min(s.key),
            (Some(h), None) => h.key,
            (None, Some(s)) => s.key,
            (None, None) => return None,
        };
        Some((first >> 64) as SimTime)
    }

    pub fn pop(&mut self) -> Option<(SimTime, E)> {
        if let Some(single) = self.single {
            if self.heap.first().is_none_or(|h| single.key < h.key) {
                self.single = None;
                return Some(((single.key >> 64) as SimTime, single.event));
            }
        }
        let last = self.heap.pop()?;
        let top = if self.heap.is_empty() {
            last
        } else {
            let top = self.heap[0];
            // Sift `last` down from the root, moving the smaller child up each level.
            let len = self.heap.len();
            let mut hole = 0;
            loop {
                let left = 2 * hole + 1;
                if left >= len {
                    break;
                }
                let right = left + 1;
                let child = if right < len && self.heap[right].key < self.heap[left].key { right } else { left };
                if last.key <= self.heap[child].key {
                    break;
                }
                self.heap[hole] = self.heap[child];
                hole = child;
            }
            self.heap[hole] = last;
            top
        };
        Some(((top.key >> 64) as SimTime, top.event))
    }
}

impl<E: Copy> Default for EventQueue<E> {
    fn default() -> Self {
        Self::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_time_events_keep_insertion_order() {
        let mut q = EventQueue::new();
        q.push(5, 'c');
        q.push(1, 'a');
        q.push(5, 'd');
        q.push(1, 'b');
        q.push(3, 'x');
        let order: Vec<char> = std::iter::from_fn(|| q.pop().map(|(_, e)| e)).collect();
        assert_eq!(order, vec!['a', 'b', 'x', 'c', 'd']);
    }

    /// Against a reference (a stable sort by time): many pushes and pops interleaved, with
    /// plenty of equal times, must come out in exactly the reference order.
    #[test]
    fn matches_a_stable_sort_under_interleaved_pushes_and_pops() {
        let mut state = 0x9e37_79b9_7f4a_7c15_u64;
        let mut next = move || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        let mut q = EventQueue::new();
        let mut reference: Vec<(SimTime, u32)> = Vec::new();
        let (mut now, mut pushed) = (0, 0u32);
        for _ in 0..20_000 {
            if next() % 3 != 0 || reference.is_empty() {
                let at = now + next() % 8; // few distinct times: many ties
                q.push(at, pushed);
                reference.push((at, pushed));
                pushed += 1;
            } else {
                // The reference's next event: earliest time, then earliest pushed.
                let k = (0..reference.len()).min_by_key(|&k| reference[k]).unwrap();
                let expected = reference.remove(k);
                assert_eq!(q.peek_time(), Some(expected.0));
                assert_eq!(q.pop(), Some(expected));
                now = expected.0;
            }
        }
        reference.sort();
        let rest: Vec<_> = std::iter::from_fn(|| q.pop()).collect();
        assert_eq!(rest, reference);
        assert_eq!(q.pop(), None);
    }

    /// The single event takes its place among heap events by time, then insertion; replacing
    /// or cancelling it leaves no trace.
    #[test]
    fn single_event_is_ordered_like_a_pushed_one_and_replaced() {
        let mut q = EventQueue::new();
        q.push(5, 'a');
        q.schedule_single(5, 'x'); // after 'a' (pushed earlier at the same time)
        q.push(5, 'b');
        q.push(3, 'c');
        assert_eq!(q.peek_time(), Some(3));
        assert_eq!(q.pop(), Some((3, 'c')));
        assert_eq!(q.pop(), Some((5, 'a')));
        assert_eq!(q.pop(), Some((5, 'x')));
        assert_eq!(q.pop(), Some((5, 'b')));
        q.schedule_single(9, 'y');
        q.schedule_single(7, 'z'); // replaces 'y'
        q.push(8, 'd');
        assert_eq!(q.pop(), Some((7, 'z')));
        assert_eq!(q.pop(), Some((8, 'd')));
        assert_eq!(q.pop(), None);
        q.schedule_single(1, 'w');
        q.cancel_single();
        assert_eq!(q.peek_time(), None);
        assert_eq!(q.pop(), None);
    }
}
