#include "storage_node/paxos/acceptor_rules.h"

#include "common/hlc.h"

namespace quorumkv {
namespace {

void Describe(const PaxosState& state, PaxosResponse* response) {
  *response->mutable_promised() = state.promised();
  if (state.has_accepted()) {
    *response->mutable_accepted_ballot() = state.accepted_ballot();
    *response->mutable_accepted() = state.accepted();
  }
  *response->mutable_committed() = state.committed();
}

}  // namespace

PaxosResponse Prepare(const Version& ballot, PaxosState* state) {
  PaxosResponse response;
  if (VersionLess(state->promised(), ballot)) {
    *state->mutable_promised() = ballot;
    response.set_ok(true);
  }
  Describe(*state, &response);
  return response;
}

PaxosResponse Propose(const Version& ballot, const VersionedValue& proposal,
                      PaxosState* state) {
  PaxosResponse response;
  if (!VersionLess(ballot, state->promised())) {
    *state->mutable_promised() = ballot;
    *state->mutable_accepted_ballot() = ballot;
    *state->mutable_accepted() = proposal;
    response.set_ok(true);
  }
  *response.mutable_promised() = state->promised();
  return response;
}

void Commit(const Version& ballot, PaxosState* state) {
  if (VersionLess(state->committed(), ballot)) {
    *state->mutable_committed() = ballot;
  }
  if (state->has_accepted() &&
      !VersionLess(state->committed(), state->accepted_ballot())) {
    state->clear_accepted();
    state->clear_accepted_ballot();
  }
}

PaxosState MergeStates(const PaxosState& a, const PaxosState& b) {
  PaxosState merged = a;
  if (VersionLess(merged.promised(), b.promised())) {
    *merged.mutable_promised() = b.promised();
  }
  if (b.has_accepted() &&
      (!merged.has_accepted() ||
       VersionLess(merged.accepted_ballot(), b.accepted_ballot()))) {
    *merged.mutable_accepted_ballot() = b.accepted_ballot();
    *merged.mutable_accepted() = b.accepted();
  }
  Commit(b.committed(), &merged);
  return merged;
}

}  // namespace quorumkv
