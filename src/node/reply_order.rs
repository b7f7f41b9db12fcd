//! `ReplyOrder`: a connection's replies leave in the order of its requests.
//!
//! The wire protocol has no request ids: a client that sends several requests before
//! reading (a wallet pipelining its transactions) matches replies to requests by their
//! order. A connection answers several requests at once, and a transaction's answer
//! (checked, batch-verified, admitted) takes longer than a tip's, so each request takes a
//! [`Ticket`] when it is read, and an answer that is ready before those of earlier
//! requests waits here until they have gone.

use std::collections::BTreeMap;

/// A request's place in the order of replies.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Ticket(u64);

/// The requests still unanswered and the answers waiting for earlier ones.
#[derive(Debug)]
pub struct ReplyOrder<T> {
    next_ticket: u64,
    /// The oldest request whose answer has not gone out.
    next_out: u64,
    /// Answers of later requests; `None` for a request answered with no reply.
    ready: BTreeMap<u64, Option<T>>,
}

impl<T> Default for ReplyOrder<T> {
    fn default() -> Self {
        ReplyOrder {
            next_ticket: 0,
            next_out: 0,
            ready: BTreeMap::new(),
        }
    }
}

impl<T> ReplyOrder<T> {
    /// A place for the request just read.
    pub fn ticket(&mut self) -> Ticket {
        let ticket = Ticket(self.next_ticket);
        self.next_ticket += 1;
        ticket
    }

    /// Answers ready but held back for earlier requests.
    pub fn held(&self) -> usize {
        self.ready.len()
    }

    /// Records the answer to `ticket` (`None`: it gets no reply) and returns the replies
    /// now due, in request order: this one and those that waited for it, if every
    /// earlier request has been answered; otherwise none yet.
    pub fn answer(&mut self, ticket: Ticket, reply: Option<T>) -> Vec<T> {
        self.ready.insert(ticket.0, reply);
        let mut due = Vec::new();
        while let Some(reply) = self.ready.remove(&self.next_out) {
            self.next_out += 1;
            due.extend(reply);
        }
        due
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replies_leave_in_request_order_whatever_order_they_are_ready_in() {
        let mut order = ReplyOrder::default();
        let [a, b, c, d] = [(); 4].map(|_| order.ticket());
        assert!(order.answer(c, Some("c")).is_empty());
        assert!(order.answer(b, None).is_empty());
        assert_eq!(order.held(), 2);
        // `a` frees `b` (no reply) and `c`, but not `d`.
        assert_eq!(order.answer(a, Some("a")), vec!["a", "c"]);
        assert_eq!(order.answer(d, Some("d")), vec!["d"]);
        let e = order.ticket();
        assert_eq!(order.answer(e, Some("e")), vec!["e"]);
    }
}
