// The one routing loop of a key-value request to the replicas of its key's
// partition, shared by the SDK's iterative mode (client/client.cc) and the
// master's recursive relay (master/relay.cc): pick a replica (UP ones
// first, from a given one on), send the request over the KvService.Batch
// stream to it, and
//  - on an answer, pass it on, typed detail and all;
//  - when the replica cannot be reached, try the next one;
//  - when a replica answers WrongNode (the directory moved on), learn the
//    newer directory and go round again after a short backoff;
//  - when every replica failed, learn what the directory's source knows
//    and go round again (the SDK, until the deadline) or give up naming
//    each replica and why (the relay: its caller retries elsewhere);
// and for writes, say whether one that failed may have happened
// (common/write_outcome.h).
//
// What differs between the two is where the directory comes from
// (RoutingSource) and the RouteOptions. Thread-safe; `done` runs once, on a
// gRPC thread, the timer thread, or (a request refused at once) the
// caller's.
#ifndef QUORUMKV_COMMON_REPLICA_ROUTER_H_
#define QUORUMKV_COMMON_REPLICA_ROUTER_H_

#include <algorithm>
#include <atomic>
#include <functional>
#include <memory>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_set.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "common/cancellation.h"
#include "common/deadlines.h"
#include "common/directory.h"
#include "common/kv_methods.h"
#include "common/kv_streams.h"
#include "common/local_kv_node.h"
#include "common/rpc_status.h"
#include "common/timer_queue.h"
#include "common/write_outcome.h"

namespace quorumkv {

// Where routed requests learn the directory: the SDK's routing cache, or
// the master's own directory and membership. Thread-safe.
class RoutingSource {
 public:
  virtual ~RoutingSource() = default;
  virtual DirectoryPtr directory() const = 0;
  // Whether `node_id` is held DOWN (tried only after the others).
  virtual bool IsDown(const std::string& node_id) const = 0;
  // Learns a newer directory, if there is one, and calls `done` once with
  // how that went (the master's is always current: OK at once).
  virtual void Refresh(absl::Time deadline,
                       std::function<void(absl::Status)> done) = 0;
  // Why the directory is not formed yet (UNAVAILABLE, saying how many
  // nodes registered).
  virtual absl::Status NotFormed() const = 0;
};

struct RouteOptions {
  // The replica (by its place in the partition's list) tried first: reads
  // spread over the replicas, writes go to the first.
  size_t first = 0;
  // Give each replica a deadline inside the request's, so that its answer
  // ("2 of 3 acknowledged") reaches the caller before the caller's own
  // deadline turns it into a bare DEADLINE_EXCEEDED (the relay: its caller
  // is a client waiting on it).
  bool inner_deadline = false;
  // Once every replica failed to answer, give up (the relay: its caller
  // tries another master) rather than learn and go round again until the
  // deadline (the SDK).
  bool one_round = false;
  // Names the router in errors ("master").
  std::string who;
  // Raised when the caller gives up: the call in flight is cancelled and
  // nothing more is tried (CANCELLED). May be null.
  CancellationPtr cancellation;
  // The node this process serves (a storage node's front doors): requests
  // for it are handed over in process rather than sent. May be null.
  LocalKvNode* local = nullptr;
};

template <typename Request>
class ReplicaRoute
    : public std::enable_shared_from_this<ReplicaRoute<Request>> {
 public:
  using Response = typename KvMethod<Request>::Response;
  using Done = std::function<void(absl::StatusOr<Response>)>;

  // Routes `request` (validated by the caller) until it is answered,
  // fails for good, or `deadline` passes. `source`, `streams` and `timers`
  // must outlive the route.
  static void Start(RoutingSource* source, KvStreams* streams,
                    TimerQueue* timers, Request request, absl::Time deadline,
                    RouteOptions options, Done done) {
    std::shared_ptr<ReplicaRoute> route(
        new ReplicaRoute(source, streams, timers, std::move(request), deadline,
                         std::move(options), std::move(done)));
    route->Attempt();
  }

 private:
  static constexpr absl::Duration kFirstBackoff = absl::Milliseconds(5);
  static constexpr absl::Duration kMaxBackoff = absl::Milliseconds(200);

  ReplicaRoute(RoutingSource* source, KvStreams* streams, TimerQueue* timers,
               Request request, absl::Time deadline, RouteOptions options,
               Done done)
      : source_(source),
        streams_(streams),
        timers_(timers),
        request_(std::move(request)),
        deadline_(deadline),
        options_(std::move(options)),
        local_id_(options_.local != nullptr ? options_.local->node_id() : ""),
        done_(std::move(done)) {}

  // A node's UNAVAILABLE without a typed detail: the request did not reach
  // a coordinator that could act on it (the node is unreachable, or has no
  // directory yet); another replica may serve it.
  static bool Unreachable(const absl::Status& status) {
    return absl::IsUnavailable(status) && !GetErrorDetail(status);
  }

  std::string Prefix() const {
    return options_.who.empty() ? "" : absl::StrCat(options_.who, " ");
  }

  void Finish(absl::StatusOr<Response> result) {
    if constexpr (KvMethod<Request>::kWrites) {
      if (!result.ok()) {
        result = attempts_.Outcome(result.status(),
                                   KvMethod<Request>::Quorum(request_));
      }
    }
    Done done = std::move(done_);
    done(std::move(result));
  }

  void Attempt() {
    if (options_.cancellation != nullptr && options_.cancellation->cancelled()) {
      return Finish(absl::CancelledError("the client cancelled the request"));
    }
    if (absl::Now() >= deadline_) {
      return Finish(absl::DeadlineExceededError(absl::StrCat(
          Prefix(), "request timed out; last error: ",
          errors_.empty() ? last_error_.message()
                          : absl::StrJoin(errors_, "; "))));
    }
    DirectoryPtr directory = source_->directory();
    if (!directory->formed()) {
      auto self = this->shared_from_this();
      source_->Refresh(deadline_, [self](absl::Status status) {
        if (self->source_->directory()->formed()) return self->Attempt();
        self->Finish(status.ok() ? self->source_->NotFormed() : status);
      });
      return;
    }
    if constexpr (std::is_same_v<Request, GetRequest>) {
      if (!request_.from_node().empty()) {
        // One replica's own copy: that node once, or nothing.
        const NodeDescriptor* node = directory->FindNode(request_.from_node());
        if (node == nullptr) {
          return Finish(absl::InvalidArgumentError(absl::StrCat(
              "unknown node ", request_.from_node(),
              " (kvcli nodes lists them)")));
        }
        if (avoid_.contains(node->id())) return Finish(last_error_);
        return Send(*directory, *node);
      }
    }
    const NodeDescriptor* target = Pick(*directory);
    if (target == nullptr) {
      if (options_.one_round && !wrong_node_) {
        return Finish(absl::Status(
            absl::Now() >= deadline_ ? absl::StatusCode::kDeadlineExceeded
                                     : absl::StatusCode::kUnavailable,
            absl::StrCat(Prefix(), "could not reach a replica of partition ",
                         KvMethod<Request>::Partition(*directory, request_), ": ",
                         absl::StrJoin(errors_, "; "))));
      }
      // Every replica failed once: learn what the source knows, then go
      // round again.
      avoid_.clear();
      return RefreshAndRetry();
    }
    Send(*directory, *target);
  }

  // The replica to try next: from options_.first on, UP ones before DOWN,
  // none this route failed on; nullptr when none is left.
  const NodeDescriptor* Pick(const DirectoryView& directory) const {
    const std::vector<std::string>& replicas =
        directory.Replicas(KvMethod<Request>::Partition(directory, request_));
    for (bool allow_down : {false, true}) {
      for (size_t i = 0; i < replicas.size(); ++i) {
        const std::string& id = replicas[(options_.first + i) % replicas.size()];
        if (avoid_.contains(id) || (!allow_down && source_->IsDown(id))) continue;
        if (const NodeDescriptor* node = directory.FindNode(id)) return node;
      }
    }
    return nullptr;
  }

  void Send(const DirectoryView& directory, const NodeDescriptor& target) {
    request_.set_directory_epoch(directory.epoch());
    const absl::Time deadline =
        options_.inner_deadline ? InnerDeadline(deadline_) : deadline_;
    if (options_.local != nullptr && target.id() == local_id_) {
      auto self = this->shared_from_this();
      options_.local->Serve(
          request_, deadline,
          [self, id = target.id(), address = target.address()](
              absl::StatusOr<Response> response) {
            self->OnReply(id, address, std::move(response));
          });
      return;
    }
    KvStream* stream = streams_->Get(target.address());
    // Registered before the call, so that a cancel in between is not
    // missed; the call's id is known once it is queued.
    auto call_id = std::make_shared<std::atomic<uint64_t>>(0);
    uint64_t registration = 0;
    if (options_.cancellation != nullptr) {
      registration = options_.cancellation->Register([stream, call_id] {
        if (const uint64_t id = call_id->load()) stream->Cancel(id);
      });
    }
    auto self = this->shared_from_this();
    *call_id = stream->Send(
        Batched(request_, deadline), deadline,
        [self, registration, id = target.id(), address = target.address()](
            absl::StatusOr<KvReply> reply) {
          if (self->options_.cancellation != nullptr) {
            self->options_.cancellation->Unregister(registration);
          }
          if (!reply.ok()) {
            return self->OnReply(id, address, reply.status());
          }
          self->OnReply(id, address,
                        std::move(*KvMethod<Request>::Unwrap(*reply)));
        });
  }

  void OnReply(const std::string& id, const std::string& address,
               absl::StatusOr<Response> reply) {
    if (reply.ok()) return Finish(*std::move(reply));
    const absl::Status& status = reply.status();
    attempts_.Failed(status);
    const std::string named =
        absl::StrCat("node ", id, " (", address, "): ", status.message());
    if (GetWrongNode(status)) {
      wrong_node_ = true;
      last_error_ = status;
      errors_.push_back(named);
      return RefreshAndRetry();
    }
    if (Unreachable(status)) {
      if constexpr (!KvMethod<Request>::kIdempotent) {
        if (MayHaveBeenApplied(status)) {
          return Finish(OutcomeUnknown(absl::UnavailableError(named)));
        }
      }
      last_error_ = absl::UnavailableError(named);
      errors_.push_back(named);
      avoid_.insert(id);
      return Attempt();
    }
    Finish(status);  // the coordinator's own answer
  }

  // Learns the newer directory, then attempts again after a short backoff.
  void RefreshAndRetry() {
    auto self = this->shared_from_this();
    source_->Refresh(deadline_, [self](absl::Status status) {
      if (!status.ok()) {
        // Keep routing by the directory held while the source is away.
        self->errors_.push_back(std::string(status.message()));
      }
      const absl::Time when =
          std::min(absl::Now() + self->backoff_, self->deadline_);
      self->backoff_ = std::min(self->backoff_ * 2, kMaxBackoff);
      self->wrong_node_ = false;
      self->timers_->RunAt(when, [self] {
        self->errors_.clear();
        self->Attempt();
      });
    });
  }

  RoutingSource* const source_;
  KvStreams* const streams_;
  TimerQueue* const timers_;
  Request request_;
  const absl::Time deadline_;
  const RouteOptions options_;
  const std::string local_id_;
  Done done_;

  // Touched by one thread at a time: each step runs after the last one's
  // answer.
  absl::flat_hash_set<std::string> avoid_;  // replicas this round failed on
  bool wrong_node_ = false;  // a replica of this round answered WrongNode
  absl::Duration backoff_ = kFirstBackoff;
  absl::Status last_error_ = absl::UnavailableError("no attempt made");
  std::vector<std::string> errors_;  // this round's, for messages
  WriteAttempts attempts_;           // writes: may one have happened?
};

}  // namespace quorumkv

#endif  // QUORUMKV_COMMON_REPLICA_ROUTER_H_
