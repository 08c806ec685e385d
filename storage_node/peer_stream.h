// The per-peer stream: one long-lived ReplicaService.Exchange call from this
// node to one peer, carrying every write, read, read repair and hint for it,
// many per message (docs/performance.md).
//
// Requests queue while a message is on its way; when it has gone, everything
// queued leaves as the next message (up to a batch limit). So an idle stream
// sends a request at once, and a busy one sends fewer, fuller messages: no
// timer holds a request back. Replies come back batched the same way.
//
// Every request gets exactly one answer: the peer's reply; UNAVAILABLE when
// the stream broke before the reply came (the request may or may not have
// been applied) or when too many bytes are already queued for the peer (it
// was not sent); DEADLINE_EXCEEDED when its deadline passed first
// (ExpireOverdue). A broken stream is replaced by a new one on the next
// request.
//
// Thread-safe. `done` callbacks run on gRPC threads or on the thread that
// calls ExpireOverdue, never under a lock of this object.
#ifndef QUORUMKV_STORAGE_NODE_PEER_STREAM_H_
#define QUORUMKV_STORAGE_NODE_PEER_STREAM_H_

#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <string>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "proto/replica.grpc.pb.h"

namespace quorumkv {

struct PeerStreamOptions {
  // A message holds at most this many requests, or this many bytes (but
  // always at least one request, however large).
  size_t max_batch_requests = 512;
  size_t max_batch_bytes = 1 << 20;
  // Bytes of requests waiting to be sent, beyond which new ones are refused
  // at once: a peer that does not keep up costs bounded memory, and its
  // writes become hints instead.
  size_t max_queued_bytes = 64 << 20;
};

struct PeerStreamCounters {
  uint64_t requests = 0;  // sent
  uint64_t messages = 0;  // batches sent
  uint64_t refused = 0;   // refused because the queue was full
  uint64_t streams = 0;   // Exchange calls started
};

class PeerStream {
 public:
  using Done = std::function<void(absl::StatusOr<PeerReply>)>;

  PeerStream(std::string address, std::unique_ptr<ReplicaService::Stub> stub,
             PeerStreamOptions options = {});
  // Cancels the stream and fails every request still waiting; returns once
  // gRPC has let go of the call.
  ~PeerStream();
  PeerStream(const PeerStream&) = delete;
  PeerStream& operator=(const PeerStream&) = delete;

  // Queues `request` (its id is set here) for the next message. A reply
  // that is an error arrives as that error.
  void Send(PeerRequest request, absl::Time deadline, Done done);

  // Fails, with DEADLINE_EXCEEDED, the requests whose deadline is at or
  // before `now`. The owner calls it every few milliseconds.
  void ExpireOverdue(absl::Time now);

  PeerStreamCounters counters() const;
  size_t queued_bytes() const;

 private:
  class Call;
  struct Queued {
    PeerRequest request;
    size_t bytes;
    absl::Time deadline;
    Done done;
  };
  struct Pending {
    absl::Time deadline;
    Done done;
    uint64_t call;  // the generation of the call that carried it
  };

  // Starts the next message if the call is free and requests are queued.
  void Pump();
  void OnReplies(PeerReplyBatch& batch);
  void OnWriteDone(uint64_t generation, bool ok);
  void OnCallDone(uint64_t generation, const absl::Status& status);

  const std::string address_;
  const std::unique_ptr<ReplicaService::Stub> stub_;
  const PeerStreamOptions options_;

  mutable absl::Mutex mu_;
  Call* call_ ABSL_GUARDED_BY(mu_) = nullptr;  // the live call, if any
  uint64_t generation_ ABSL_GUARDED_BY(mu_) = 0;
  int live_calls_ ABSL_GUARDED_BY(mu_) = 0;  // not yet done, current included
  bool writing_ ABSL_GUARDED_BY(mu_) = false;
  bool closing_ ABSL_GUARDED_BY(mu_) = false;
  uint64_t next_id_ ABSL_GUARDED_BY(mu_) = 0;
  std::deque<Queued> queue_ ABSL_GUARDED_BY(mu_);
  size_t queued_bytes_ ABSL_GUARDED_BY(mu_) = 0;
  absl::flat_hash_map<uint64_t, Pending> pending_ ABSL_GUARDED_BY(mu_);
  PeerStreamCounters counters_ ABSL_GUARDED_BY(mu_);
};

}  // namespace quorumkv

#endif  // QUORUMKV_STORAGE_NODE_PEER_STREAM_H_
