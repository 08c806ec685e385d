// What a replica does with each step of a key's Paxos round: pure
// functions over its PaxosState (proto/replica.proto), so that the rules
// are tested without a cluster (tests/paxos_test.cc). The acceptor
// (acceptor.h) keeps the state durable around them.
//
// Single-decree Paxos per operation, as Cassandra's lightweight
// transactions: a ballot is promised only above every promise made; a
// proposal is accepted only under a ballot at least the promise; a commit
// stores the chosen row and closes the proposal it carried.
#ifndef QUORUMKV_STORAGE_NODE_PAXOS_ACCEPTOR_RULES_H_
#define QUORUMKV_STORAGE_NODE_PAXOS_ACCEPTOR_RULES_H_

#include "proto/replica.pb.h"

namespace quorumkv {

// Promises `ballot` when it is above the promise held; the answer carries
// the state either way (the proposer learns what to beat, or what was
// accepted and committed).
PaxosResponse Prepare(const Version& ballot, PaxosState* state);

// Accepts `proposal` under `ballot` unless a higher ballot was promised.
PaxosResponse Propose(const Version& ballot, const VersionedValue& proposal,
                      PaxosState* state);

// Records that the proposal of `ballot` was chosen (the row itself is
// stored by the caller): an accepted proposal at or below it is closed.
void Commit(const Version& ballot, PaxosState* state);

// The state that keeps the highest promise, the newest accepted proposal
// and the newest commit of both: how a joining replica takes the states
// streamed to it.
PaxosState MergeStates(const PaxosState& a, const PaxosState& b);

}  // namespace quorumkv

#endif  // QUORUMKV_STORAGE_NODE_PAXOS_ACCEPTOR_RULES_H_
