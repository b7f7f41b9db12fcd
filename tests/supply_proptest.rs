//! Property test of supply conservation (the book's Protocol and rules › Consensus rules):
//! random sequences of valid transfers between a few funded accounts, submitted to the
//! mempool and mined into blocks by random miners (from block templates or built directly),
//! are all accepted; afterwards every balance and nonce equals a plain model kept by the
//! test, the mempool is empty, and the total supply is exactly the genesis allocations plus
//! `block_reward` × height (fees move from senders to miners, so they conserve).

mod common;

use ironchain::chain::BlockOutcome;
use ironchain::consensus::transaction::Transaction;
use ironchain::testkit::{self, address, key};
use proptest::prelude::*;
use std::collections::BTreeMap;

/// Accounts 1..=4 start funded; 5 and 6 start empty.
const FUNDED: u64 = 4;
const ACCOUNTS: u64 = 6;
/// Miners: one funded account and two that only ever mine.
const MINERS: [u64; 3] = [4, 10, 11];
const FUNDS: u64 = 10_000;

#[derive(Clone, Debug)]
struct Transfer {
    from: u64,
    to: u64,
    /// Share of the spendable balance sent, in percent.
    percent: u64,
    fee: u64,
}

#[derive(Clone, Debug)]
struct BlockPlan {
    miner: u64,
    from_template: bool,
    transfers: Vec<Transfer>,
}

fn transfer() -> impl Strategy<Value = Transfer> {
    (1..=ACCOUNTS, 1..=ACCOUNTS, 0..=100u64, 1..=20u64).prop_map(|(from, to, percent, fee)| {
        Transfer {
            from,
            to,
            percent,
            fee,
        }
    })
}

fn block_plan() -> impl Strategy<Value = BlockPlan> {
    (
        prop::sample::select(MINERS.to_vec()),
        any::<bool>(),
        prop::collection::vec(transfer(), 0..6),
    )
        .prop_map(|(miner, from_template, transfers)| BlockPlan {
            miner,
            from_template,
            transfers,
        })
}

/// Balance and nonce per test account, as the rules say they should be.
#[derive(Default)]
struct Model {
    accounts: BTreeMap<u64, (u64, u64)>,
}

impl Model {
    fn get(&self, n: u64) -> (u64, u64) {
        self.accounts.get(&n).copied().unwrap_or((0, 0))
    }

    fn total(&self) -> u64 {
        self.accounts.values().map(|(balance, _)| balance).sum()
    }
}

fn run(plans: Vec<BlockPlan>) -> Result<(), TestCaseError> {
    let allocations: Vec<_> = (1..=FUNDED).map(|n| (address(n), FUNDS)).collect();
    let params = testkit::params(&allocations);
    let reward = params.block_reward.get();
    let (_dir, mut chain) = common::chain::open_chain(params);
    let genesis = chain.genesis_hash();

    let mut model = Model::default();
    for n in 1..=FUNDED {
        model.accounts.insert(n, (FUNDS, 0));
    }

    for (height, plan) in (1u64..).zip(plans) {
        // Spent by transactions pending in this block, and their count, per sender.
        let mut pending: BTreeMap<u64, (u64, u64)> = BTreeMap::new();
        let mut txs: Vec<(Transaction, Transfer)> = Vec::new();
        for transfer in plan.transfers {
            let (balance, nonce) = model.get(transfer.from);
            let (spent, count) = pending.get(&transfer.from).copied().unwrap_or((0, 0));
            let spendable = balance - spent;
            if spendable < transfer.fee {
                continue; // would not be a valid transfer
            }
            let amount = (spendable - transfer.fee) * transfer.percent / 100;
            if amount == 0 {
                continue; // the mempool's relay policy refuses a transfer of nothing
            }
            let tx = testkit::transfer(
                &key(transfer.from),
                address(transfer.to),
                amount,
                transfer.fee,
                nonce + count,
                &genesis,
            );
            prop_assert_eq!(chain.submit_transaction(tx.clone()), Ok(tx.id()));
            pending.insert(transfer.from, (spent + amount + transfer.fee, count + 1));
            txs.push((tx, transfer));
        }

        let now = chain.tip().timestamp_ms + 1_000;
        let block = if plan.from_template {
            let template = chain.template(address(plan.miner), now);
            prop_assert_eq!(template.block.txs.len(), txs.len());
            let mut block = template.block;
            testkit::mine(&mut block.header, &template.target);
            block
        } else {
            let listed = txs.iter().map(|(tx, _)| tx.clone()).collect();
            testkit::block_on(&chain, &chain.tip().hash, address(plan.miner), listed, now)
        };
        match chain.process_block(block, now) {
            Ok(BlockOutcome::Accepted(accepted)) => {
                prop_assert!(accepted.tip_change.is_some());
                prop_assert!(accepted.rejected.is_empty());
            }
            other => prop_assert!(false, "valid block refused: {:?}", other),
        }

        let mut fees = 0;
        for (tx, transfer) in &txs {
            let (balance, nonce) = model.get(transfer.from);
            model.accounts.insert(
                transfer.from,
                (balance - tx.amount.get() - tx.fee.get(), nonce + 1),
            );
            let (balance, nonce) = model.get(transfer.to);
            model
                .accounts
                .insert(transfer.to, (balance + tx.amount.get(), nonce));
            fees += tx.fee.get();
        }
        let (balance, nonce) = model.get(plan.miner);
        model
            .accounts
            .insert(plan.miner, (balance + reward + fees, nonce));

        prop_assert_eq!(chain.tip().height, height);
        prop_assert!(chain.mempool().is_empty());
        for n in (1..=ACCOUNTS).chain(MINERS) {
            let account = chain.state().account(&address(n));
            prop_assert_eq!(
                (account.balance.get(), account.nonce),
                model.get(n),
                "account {}",
                n
            );
        }
        let expected_supply = FUNDED * FUNDS + reward * height;
        prop_assert_eq!(
            chain.state().total_supply().map(|supply| supply.get()),
            Some(expected_supply)
        );
        prop_assert_eq!(model.total(), expected_supply);
        // Nobody outside the model holds anything.
        let known: Vec<_> = (1..=ACCOUNTS).chain(MINERS).map(address).collect();
        for (holder, _) in chain.state().iter() {
            prop_assert!(known.contains(holder), "unexpected account {}", holder);
        }
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(32))]

    #[test]
    fn valid_transfers_conserve_supply_and_match_the_model(
        plans in prop::collection::vec(block_plan(), 1..8)
    ) {
        run(plans)?;
    }
}
