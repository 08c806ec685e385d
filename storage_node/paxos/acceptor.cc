#include "storage_node/paxos/acceptor.h"

#include "common/status_macros.h"
#include "storage_node/paxos/acceptor_rules.h"

namespace quorumkv {

PaxosAcceptor::PaxosAcceptor(Engine* engine, HybridClock* clock)
    : engine_(engine), clock_(clock) {}

absl::StatusOr<PaxosResponse> PaxosAcceptor::Answer(
    const PaxosRequest& request) {
  // Ballots are versions: every node's clock moves past those it sees, so
  // its own next ballot is higher.
  RETURN_IF_ERROR(clock_->Observe(request.ballot()));
  PaxosResponse response;
  switch (request.phase()) {
    case PaxosRequest::PREPARE:
      RETURN_IF_ERROR(engine_->UpdatePaxos(
          request.partition(), request.key(),
          [&](PaxosState* state, const VersionedValue* current) {
            response = Prepare(request.ballot(), state);
            if (current != nullptr) {
              response.set_found(true);
              *response.mutable_current() = *current;
            }
            return response.ok();
          }));
      return response;
    case PaxosRequest::PROPOSE:
      RETURN_IF_ERROR(engine_->UpdatePaxos(
          request.partition(), request.key(),
          [&](PaxosState* state, const VersionedValue*) {
            response = Propose(request.ballot(), request.proposal(), state);
            return response.ok();
          }));
      return response;
    case PaxosRequest::COMMIT:
      // The row first: a crash in between leaves the proposal open, and
      // the next round commits it again (the same row, idempotent).
      RETURN_IF_ERROR(engine_
                          ->Apply(request.partition(), request.key(),
                                  request.proposal())
                          .status());
      RETURN_IF_ERROR(engine_->UpdatePaxos(
          request.partition(), request.key(),
          [&](PaxosState* state, const VersionedValue*) {
            Commit(request.ballot(), state);
            return true;
          }));
      response.set_ok(true);
      return response;
    default:
      break;
  }
  return absl::InvalidArgumentError("unknown Paxos phase");
}

}  // namespace quorumkv
