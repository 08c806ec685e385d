#include "storage_node/coordinator.h"

#include <memory>
#include <optional>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "common/batch_cork.h"
#include "common/deadlines.h"
#include "common/logging.h"
#include "common/rpc_status.h"

namespace quorumkv {
namespace {

// Label of a replica in error messages: "id (host:port)".
std::string Describe(const DirectoryView& directory, const std::string& id) {
  const NodeDescriptor* node = directory.FindNode(id);
  return node == nullptr ? id : absl::StrCat(id, " (", node->address(), ")");
}

absl::StatusCode QuorumFailureCode(absl::Time deadline) {
  return absl::Now() >= deadline ? absl::StatusCode::kDeadlineExceeded
                                 : absl::StatusCode::kUnavailable;
}

}  // namespace

struct Coordinator::WriteState {
  WriteState(DirectoryPtr dir, ApplyRequest req, uint32_t w, WriteDone cb)
      : directory(std::move(dir)),
        request(std::move(req)),
        needed(w),
        total(static_cast<uint32_t>(
            directory->Replicas(request.partition()).size())),
        done(std::move(cb)) {}

  const DirectoryPtr directory;
  const ApplyRequest request;
  const uint32_t needed;
  const uint32_t total;

  absl::Mutex mu;
  uint32_t acks ABSL_GUARDED_BY(mu) = 0;
  bool existed ABSL_GUARDED_BY(mu) = false;
  uint32_t failures ABSL_GUARDED_BY(mu) = 0;
  bool answered ABSL_GUARDED_BY(mu) = false;
  std::vector<std::string> errors ABSL_GUARDED_BY(mu);
  // A replica's refusal from a newer directory epoch than the write's.
  std::optional<WrongNode> newer ABSL_GUARDED_BY(mu);
  WriteDone done ABSL_GUARDED_BY(mu);
};

struct Coordinator::ReadState {
  struct Reply {
    std::string node_id;
    std::optional<VersionedValue> value;  // nullopt: never seen the key
  };

  ReadState(DirectoryPtr dir, ReadRequest req, uint32_t r,
            std::vector<std::string> order, absl::Time until, ReadDone cb)
      : directory(std::move(dir)),
        request(std::move(req)),
        needed(r),
        targets(std::move(order)),
        deadline(until),
        done(std::move(cb)) {}

  const DirectoryPtr directory;
  const ReadRequest request;
  const uint32_t needed;
  const std::vector<std::string> targets;  // this node first
  const absl::Time deadline;

  absl::Mutex mu;
  size_t next_target ABSL_GUARDED_BY(mu) = 0;
  uint32_t outstanding ABSL_GUARDED_BY(mu) = 0;
  bool answered ABSL_GUARDED_BY(mu) = false;
  std::vector<Reply> replies ABSL_GUARDED_BY(mu);
  std::vector<std::string> errors ABSL_GUARDED_BY(mu);
  ReadDone done ABSL_GUARDED_BY(mu);
};

Coordinator::Coordinator(std::string self_id, Engine* engine,
                         HybridClock* clock, PeerSet* peers,
                         const DownNodes* down, HintWriter* hints)
    : self_id_(std::move(self_id)),
      engine_(engine),
      clock_(clock),
      peers_(peers),
      down_(down),
      hints_(hints) {}

void Coordinator::WaitIdle() {
  std::unique_ptr<TimerQueue> timers;
  {
    absl::MutexLock lock(&timers_mu_);
    timers = std::move(timers_);
  }
  // Runs the speculative retries still queued (they find no timer queue and
  // launch nothing) and joins its thread; then the calls in flight end.
  timers.reset();
  peers_->WaitIdle();
}

void Coordinator::SpeculateLater(const std::shared_ptr<ReadState>& state) {
  absl::MutexLock lock(&timers_mu_);
  if (timers_ == nullptr) return;  // shutting down
  timers_->RunAt(absl::Now() + speculative_retry_.Threshold(),
                 [this, state] { Speculate(state); });
}

namespace {

// Local writes a thread has put off under a BatchCork, per coordinator
// (tests run several nodes in one process). Only that thread touches them.
struct DeferredWrite {
  RowWrite row;
  std::function<void(absl::StatusOr<ApplyResponse>)> done;
};
thread_local absl::flat_hash_map<const Coordinator*,
                                 std::vector<DeferredWrite>>
    deferred_local_writes;

}  // namespace

void Coordinator::ApplyLocally(
    RowWrite row, std::function<void(absl::StatusOr<ApplyResponse>)> done) {
  std::vector<DeferredWrite>& pending = deferred_local_writes[this];
  pending.push_back({row, std::move(done)});
  if (pending.size() > 1) return;  // a flush is already deferred
  auto flush = [](void* self) {
    static_cast<Coordinator*>(self)->FlushLocalWrites();
  };
  if (!BatchCork::Defer(this, flush)) FlushLocalWrites();
}

void Coordinator::FlushLocalWrites() {
  std::vector<DeferredWrite> writes =
      std::move(deferred_local_writes.extract(this).mapped());
  std::vector<RowWrite> rows;
  rows.reserve(writes.size());
  for (const DeferredWrite& w : writes) rows.push_back(w.row);
  // The rows of one incoming message: one RocksDB write (and, with
  // --sync_writes, one sync) for all of them.
  std::vector<bool> stored, had_value;
  const absl::Status status = engine_->ApplyMany(rows, &stored, &had_value);
  for (size_t i = 0; i < writes.size(); ++i) {
    if (!status.ok()) {
      writes[i].done(status);
      continue;
    }
    ApplyResponse response;
    response.set_applied(stored[i]);
    response.set_had_value(had_value[i]);
    writes[i].done(std::move(response));
  }
}

Peer* Coordinator::PeerOf(const DirectoryView& directory,
                          const std::string& node_id) {
  const NodeDescriptor* node = directory.FindNode(node_id);
  return node == nullptr ? nullptr : peers_->Get(node->address());
}

bool Coordinator::Alive(const DirectoryView& directory,
                        const std::string& node_id) {
  if (node_id == self_id_) return true;
  if (down_ != nullptr && down_->IsDown(node_id)) return false;
  Peer* peer = PeerOf(directory, node_id);
  return peer != nullptr && peer->healthy();
}

void Coordinator::Deliver(const DirectoryView& directory,
                          const std::string& node_id,
                          const ApplyRequest& request, absl::Time deadline,
                          std::function<void(absl::StatusOr<ApplyResponse>)> done) {
  if (node_id == self_id_) {
    auto applied =
        engine_->Apply(request.partition(), request.key(), request.value());
    if (!applied.ok()) return done(applied.status());
    ApplyResponse response;
    response.set_applied(*applied);
    done(std::move(response));
    return;
  }
  Peer* peer = PeerOf(directory, node_id);
  if (peer == nullptr) {
    done(absl::UnavailableError("node is not in the directory"));
    return;
  }
  peer->Apply(request, deadline, std::move(done));
}

void Coordinator::Write(DirectoryPtr directory, uint32_t partition,
                        std::string key, VersionedValue value, uint32_t w,
                        absl::Time deadline, WriteDone done) {
  // Replicas answer (or time out) before the caller gives up, so that the
  // caller learns how many acknowledged.
  deadline = InnerDeadline(deadline);
  const std::vector<std::string>& replicas = directory->Replicas(partition);
  std::vector<std::string> gone;
  for (const std::string& id : replicas) {
    if (!Alive(*directory, id)) {
      gone.push_back(absl::StrCat(Describe(*directory, id),
                                  down_ != nullptr && down_->IsDown(id)
                                      ? " is DOWN"
                                      : " is unreachable"));
    }
  }
  const uint32_t alive = replicas.size() - gone.size();
  if (alive < w) {
    // Cassandra's Unavailable: nothing stored anywhere, nothing hinted, so
    // the client knows the write did not happen.
    QuorumNotReached detail;
    detail.set_required(w);
    detail.set_replicas(replicas.size());
    detail.set_attempted(false);
    done(QuorumError(
        absl::StatusCode::kUnavailable,
        absl::StrCat("coordinator ", Describe(*directory, self_id_),
                     ": write refused before writing anywhere: only ", alive,
                     " of ", replicas.size(), " replicas are alive (W=", w,
                     "); ", absl::StrJoin(gone, "; ")),
        detail));
    return;
  }
  *value.mutable_version() = clock_->Now();
  ApplyRequest request;
  request.set_partition(partition);
  request.set_key(std::move(key));
  *request.mutable_value() = std::move(value);
  request.set_directory_epoch(directory->epoch());
  auto state = std::make_shared<WriteState>(directory, std::move(request), w,
                                            std::move(done));

  auto on_reply = [this, state, deadline](
                      const std::string& node_id,
                      const absl::StatusOr<ApplyResponse>& reply) {
    const absl::Status status = reply.status();
    if (!status.ok() && node_id != self_id_) {
      hints_->Add(node_id, state->request);
    }
    WriteDone done;
    absl::StatusOr<WriteOutcome> outcome;
    {
      absl::MutexLock lock(&state->mu);
      if (status.ok()) {
        ++state->acks;
        state->existed |= reply->had_value();
      } else {
        ++state->failures;
        state->errors.push_back(absl::StrCat(
            Describe(*state->directory, node_id), ": ", status.message()));
        if (auto wrong = GetWrongNode(status);
            wrong && wrong->epoch() > state->directory->epoch()) {
          state->newer = *wrong;
        }
      }
      if (state->answered) return;
      if (state->acks >= state->needed) {
        outcome = WriteOutcome{state->request.value().version(), state->acks,
                               state->existed};
      } else if (state->acks + state->failures == state->total &&
                 state->newer) {
        // A replica has moved on to a directory where it no longer holds
        // the partition: this node routed by an older one. The client
        // refreshes and retries (with the newer epoch, which makes this
        // node refresh too) rather than taking it as a quorum failure.
        WrongNode detail = *state->newer;
        detail.set_partition(state->request.partition());
        outcome = WrongNodeError(
            detail, absl::StrCat("coordinator ", self_id_,
                                 " routed by directory epoch ",
                                 state->directory->epoch(), "; replica ",
                                 state->newer->node_id(), " is at epoch ",
                                 state->newer->epoch(), "; retry"));
      } else if (state->acks + state->failures == state->total) {
        // Every replica has answered (or timed out), so the count is exact.
        QuorumNotReached detail;
        detail.set_acknowledged(state->acks);
        detail.set_required(state->needed);
        detail.set_replicas(state->total);
        detail.set_attempted(true);
        outcome = QuorumError(
            QuorumFailureCode(deadline),
            absl::StrCat("coordinator ",
                         Describe(*state->directory, self_id_),
                         ": write quorum not reached: ", state->acks, " of ",
                         state->total, " replicas acknowledged (W=",
                         state->needed, "); ",
                         absl::StrJoin(state->errors, "; ")),
            detail);
      } else {
        return;
      }
      state->answered = true;
      done = std::move(state->done);
    }
    done(std::move(outcome));
  };

  // This node first, so that W=1 answers without waiting on the network.
  // `on_reply` holds `state`, and so the row's key and value, until the row
  // is stored.
  ApplyLocally(RowWrite{partition, state->request.key(),
                        &state->request.value()},
               [this, on_reply](absl::StatusOr<ApplyResponse> reply) {
                 on_reply(self_id_, reply);
               });
  for (const std::string& node_id : directory->Replicas(partition)) {
    if (node_id == self_id_) continue;
    if (down_ != nullptr && down_->IsDown(node_id)) {
      // Sending would only queue behind a dead or paused process.
      on_reply(node_id, absl::StatusOr<ApplyResponse>(
                            absl::UnavailableError("DOWN by the master")));
      continue;
    }
    Deliver(*directory, node_id, state->request, deadline,
            [on_reply, node_id](absl::StatusOr<ApplyResponse> reply) {
              on_reply(node_id, reply);
            });
  }
  // A joining replica must miss no write made after it joined (its stream
  // may have been read before): hinted on failure, but never counted.
  for (const std::string& node_id : directory->Joining(partition)) {
    if (node_id == self_id_) continue;
    Deliver(*directory, node_id, state->request, deadline,
            [this, state, node_id](absl::StatusOr<ApplyResponse> reply) {
              if (!reply.ok()) hints_->Add(node_id, state->request);
            });
  }
}

void Coordinator::FetchFrom(
    const DirectoryView& directory, const std::string& node_id,
    const ReadRequest& request, absl::Time deadline,
    std::function<void(absl::StatusOr<ReadResponse>)> done) {
  if (node_id == self_id_) {
    ReadResponse response;
    auto value = engine_->Read(request.partition(), request.key());
    if (value.ok()) {
      response.set_found(true);
      *response.mutable_value() = *std::move(value);
    } else if (!absl::IsNotFound(value.status())) {
      done(value.status());
      return;
    }
    done(std::move(response));
    return;
  }
  Peer* peer = PeerOf(directory, node_id);
  if (peer == nullptr) {
    done(absl::UnavailableError("node is not in the directory"));
    return;
  }
  peer->Read(request, deadline, std::move(done));
}

void Coordinator::Read(DirectoryPtr directory, uint32_t partition,
                       std::string key, uint32_t r, absl::Time deadline,
                       ReadDone done) {
  deadline = InnerDeadline(deadline);  // as in Write()
  // This node first, then live peers, then those DOWN or whose last call
  // failed for want of the peer (still asked if the first ones fail).
  std::vector<std::string> order = {self_id_}, unhealthy;
  for (const std::string& id : directory->Replicas(partition)) {
    if (id == self_id_) continue;
    (Alive(*directory, id) ? order : unhealthy).push_back(id);
  }
  order.insert(order.end(), unhealthy.begin(), unhealthy.end());
  ReadRequest request;
  request.set_partition(partition);
  request.set_key(std::move(key));
  request.set_directory_epoch(directory->epoch());
  auto state = std::make_shared<ReadState>(
      std::move(directory), std::move(request), r, std::move(order), deadline,
      std::move(done));
  std::vector<std::string> first;
  {
    absl::MutexLock lock(&state->mu);
    while (state->next_target < state->targets.size() &&
           first.size() < state->needed) {
      first.push_back(state->targets[state->next_target++]);
      ++state->outstanding;
    }
  }
  for (const std::string& node_id : first) LaunchRead(state, node_id);
  if (state->targets.size() > first.size()) {
    SpeculateLater(state);
  }
}

void Coordinator::Speculate(const std::shared_ptr<ReadState>& state) {
  {
    absl::MutexLock lock(&timers_mu_);
    if (timers_ == nullptr) return;  // shutting down: launch nothing more
  }
  std::string node_id;
  {
    absl::MutexLock lock(&state->mu);
    if (state->answered || state->next_target >= state->targets.size() ||
        absl::Now() >= state->deadline) {
      return;
    }
    node_id = state->targets[state->next_target++];
    ++state->outstanding;
  }
  LaunchRead(state, node_id);
  SpeculateLater(state);
}

void Coordinator::LaunchRead(const std::shared_ptr<ReadState>& state,
                             const std::string& node_id) {
  const absl::Time start = absl::Now();
  FetchFrom(*state->directory, node_id, state->request, state->deadline,
            [this, state, node_id, start](absl::StatusOr<ReadResponse> reply) {
              if (reply.ok() && node_id != self_id_) {
                speculative_retry_.Record(absl::Now() - start);
              }
              OnReadReply(state, node_id, std::move(reply));
            });
}

void Coordinator::OnReadReply(const std::shared_ptr<ReadState>& state,
                              const std::string& node_id,
                              absl::StatusOr<ReadResponse> reply) {
  std::optional<std::string> retry_on;
  ReadDone failed;
  absl::Status failure;
  bool quorum = false;
  {
    absl::MutexLock lock(&state->mu);
    --state->outstanding;
    if (state->answered) return;
    if (reply.ok()) {
      ReadState::Reply r{node_id, std::nullopt};
      if (reply->found()) r.value = std::move(*reply->mutable_value());
      state->replies.push_back(std::move(r));
      quorum = state->replies.size() >= state->needed;
    } else {
      state->errors.push_back(absl::StrCat(
          Describe(*state->directory, node_id), ": ", reply.status().message()));
      if (state->next_target < state->targets.size()) {
        retry_on = state->targets[state->next_target++];
        ++state->outstanding;
      }
    }
    if (!quorum && state->outstanding == 0) {
      // No replica left to ask and every answer is in: the count is exact.
      QuorumNotReached detail;
      detail.set_acknowledged(state->replies.size());
      detail.set_required(state->needed);
      detail.set_replicas(state->targets.size());
      detail.set_attempted(true);
      failure = QuorumError(
          QuorumFailureCode(state->deadline),
          absl::StrCat("coordinator ", Describe(*state->directory, self_id_),
                       ": read quorum not reached: ", state->replies.size(),
                       " of ", state->targets.size(),
                       " replicas answered (R=", state->needed, "); ",
                       absl::StrJoin(state->errors, "; ")),
          detail);
      state->answered = true;
      failed = std::move(state->done);
    }
    if (quorum) state->answered = true;
  }
  if (retry_on) LaunchRead(state, *retry_on);
  if (failed) failed(std::move(failure));
  if (quorum) Repair(state);
}

void Coordinator::Repair(const std::shared_ptr<ReadState>& state) {
  // `answered` is set: no other thread touches replies or done any more.
  std::vector<ReadState::Reply> replies;
  ReadDone done;
  {
    absl::MutexLock lock(&state->mu);
    replies = std::move(state->replies);
    done = std::move(state->done);
  }
  const VersionedValue* newest = nullptr;
  for (const auto& reply : replies) {
    if (reply.value && (newest == nullptr ||
                        VersionLess(newest->version(), reply.value->version()))) {
      newest = &*reply.value;
    }
  }
  if (newest == nullptr) {
    done(absl::NotFoundError("key not found"));
    return;
  }
  clock_->Observe(newest->version()).IgnoreError();  // logged by the clock
  std::vector<std::string> stale;
  for (const auto& reply : replies) {
    if (!reply.value ||
        VersionLess(reply.value->version(), newest->version())) {
      stale.push_back(reply.node_id);
    }
  }
  if (stale.empty()) {
    done(*newest);
    return;
  }
  read_repairs_.fetch_add(stale.size(), std::memory_order_relaxed);

  struct RepairState {
    absl::Mutex mu;
    size_t pending ABSL_GUARDED_BY(mu);
    std::vector<std::string> errors ABSL_GUARDED_BY(mu);
  };
  auto repair = std::make_shared<RepairState>();
  {
    absl::MutexLock lock(&repair->mu);
    repair->pending = stale.size();
  }
  ApplyRequest request;
  request.set_partition(state->request.partition());
  request.set_key(state->request.key());
  *request.mutable_value() = *newest;
  request.set_directory_epoch(state->directory->epoch());
  auto finish = std::make_shared<std::function<void()>>(
      [this, repair, state, request, done = std::move(done)]() {
        std::vector<std::string> errors;
        {
          absl::MutexLock lock(&repair->mu);
          errors = repair->errors;
        }
        if (errors.empty()) {
          done(request.value());
          return;
        }
        QuorumNotReached detail;
        detail.set_acknowledged(state->needed - errors.size());
        detail.set_required(state->needed);
        detail.set_replicas(state->targets.size());
        detail.set_attempted(true);
        done(QuorumError(QuorumFailureCode(state->deadline),
                         absl::StrCat("coordinator ",
                                      Describe(*state->directory, self_id_),
                                      ": read repair failed: ",
                                      absl::StrJoin(errors, "; ")),
                         detail));
      });
  for (const std::string& node_id : stale) {
    Deliver(*state->directory, node_id, request, state->deadline,
            [repair, finish, node_id, state](absl::StatusOr<ApplyResponse> reply) {
              const absl::Status status = reply.status();
              bool last;
              {
                absl::MutexLock lock(&repair->mu);
                if (!status.ok()) {
                  repair->errors.push_back(absl::StrCat(
                      Describe(*state->directory, node_id), ": ",
                      status.message()));
                }
                last = --repair->pending == 0;
              }
              if (last) (*finish)();
            });
  }
}

}  // namespace quorumkv
