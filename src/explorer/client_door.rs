//! `ClientDoor`: the actor that keeps the explorer's [`ClientBudgets`], so every request
//! of every HTTP worker is counted in one place. A request asks it for a [`Permit`]
//! before any work; the permit gives its hold back when dropped (the answer was built,
//! or an event stream's socket closed).

use super::client_budget::{BudgetLimits, ClientBudgets, Hold};
use super::request_gate::Refusal;
use crate::node::clock::now;
use actix::prelude::*;
use std::net::IpAddr;

/// The explorer's client budgets.
pub struct ClientDoor {
    budgets: ClientBudgets,
}

impl ClientDoor {
    pub fn new(limits: BudgetLimits) -> Self {
        ClientDoor {
            budgets: ClientBudgets::new(limits),
        }
    }
}

impl Actor for ClientDoor {
    type Context = Context<Self>;
}

/// Asks for a hold for `ip`; the answer's `Ok` must become a [`Permit`].
#[derive(Message)]
#[rtype(result = "Result<(), Refusal>")]
struct Admit {
    ip: IpAddr,
    hold: Hold,
}

impl Handler<Admit> for ClientDoor {
    type Result = Result<(), Refusal>;

    fn handle(&mut self, message: Admit, _: &mut Self::Context) -> Self::Result {
        self.budgets.admit(message.ip, message.hold, now())
    }
}

#[derive(Message)]
#[rtype(result = "()")]
struct Release {
    ip: IpAddr,
    hold: Hold,
}

impl Handler<Release> for ClientDoor {
    type Result = ();

    fn handle(&mut self, message: Release, _: &mut Self::Context) {
        self.budgets.release(message.ip, message.hold);
    }
}

/// Bytes of answer sent to `ip`.
#[derive(Message)]
#[rtype(result = "()")]
pub struct Served {
    pub ip: IpAddr,
    pub bytes: u64,
}

impl Handler<Served> for ClientDoor {
    type Result = ();

    fn handle(&mut self, message: Served, _: &mut Self::Context) {
        self.budgets.served(message.ip, message.bytes, now());
    }
}

/// A transaction with a forged signature came from `ip`.
#[derive(Message)]
#[rtype(result = "()")]
pub struct Forged(pub IpAddr);

impl Handler<Forged> for ClientDoor {
    type Result = ();

    fn handle(&mut self, message: Forged, _: &mut Self::Context) {
        self.budgets.forged(message.0, now());
    }
}

/// Whether `ip` may have a transaction's signature checked.
#[derive(Message)]
#[rtype(result = "Result<(), Refusal>")]
pub struct MaySubmit(pub IpAddr);

impl Handler<MaySubmit> for ClientDoor {
    type Result = Result<(), Refusal>;

    fn handle(&mut self, message: MaySubmit, _: &mut Self::Context) -> Self::Result {
        self.budgets.may_submit(message.0, now())
    }
}

/// A hold on the explorer's budget, given back when dropped.
pub struct Permit {
    door: Addr<ClientDoor>,
    ip: IpAddr,
    hold: Hold,
}

impl Drop for Permit {
    fn drop(&mut self) {
        self.door.do_send(Release {
            ip: self.ip,
            hold: self.hold,
        });
    }
}

/// Takes a `hold` for `ip` from `door`, or says why not (503 when the node stops).
pub async fn admit(door: &Addr<ClientDoor>, ip: IpAddr, hold: Hold) -> Result<Permit, Refusal> {
    door.send(Admit { ip, hold })
        .await
        .unwrap_or_else(|_| {
            Err(Refusal {
                status: 503,
                reason: "the node is shutting down".into(),
            })
        })
        .map(|()| Permit {
            door: door.clone(),
            ip,
            hold,
        })
}
