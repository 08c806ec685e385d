// A batching stream of requests to one server: one long-lived bidi call
// that carries many requests per message, each with its own id, deadline
// and answer. The per-peer stream between storage nodes
// (storage_node/peer_stream.h) and the SDK's stream to each node
// (common/kv_streams.h) are both one.
//
// Requests queue while a message is on its way, and while their thread
// holds a BatchCork (common/batch_cork.h: the callbacks of one reply
// message, the requests of one incoming message); then everything queued
// leaves as the next message (up to a batch limit). So an idle stream sends
// a request at once, and a busy one sends fewer, fuller messages: no timer
// holds a request back. The server batches its replies the same way.
//
// Every request gets exactly one answer: the server's reply; UNAVAILABLE when
// the stream broke before the reply came (the request may or may not have
// taken effect) or when too many bytes are already queued for the server
// (it was not sent); DEADLINE_EXCEEDED when its deadline passed first
// (ExpireOverdue). A failure after the request was handed to gRPC, unless
// gRPC reported its write failed, is marked as sent (common/rpc_status.h
// MarkSent): the server may have acted on it. A broken stream is replaced
// by a new one on the next request.
//
// With `resend_unanswered` (servers whose requests are safe to repeat: the
// per-peer stream, whose writes carry their version), a stream that breaks
// fails nothing: the requests it had not answered go first on the next
// call, which waits for the server to be reachable (gRPC's wait-for-ready)
// instead of failing at once; a request then fails only when its deadline
// passes. A peer that restarts is so reached again as soon as it listens.
//
// Request must have `id`, RequestBatch a repeated `requests`, Reply `id` and
// an optional RequestError `error`, ReplyBatch a repeated `replies`.
//
// Thread-safe. `done` callbacks run on gRPC threads or on the thread that
// calls ExpireOverdue, never under a lock of this object.
#ifndef QUORUMKV_COMMON_BATCH_STREAM_H_
#define QUORUMKV_COMMON_BATCH_STREAM_H_

#include <atomic>
#include <algorithm>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "common/batch_cork.h"
#include "common/rpc_status.h"
#include "grpcpp/client_context.h"
#include "grpcpp/support/client_callback.h"

namespace quorumkv {

struct BatchStreamOptions {
  // A message holds at most this many requests, or this many bytes (but
  // always at least one request, however large).
  size_t max_batch_requests = 512;
  size_t max_batch_bytes = 1 << 20;
  // Bytes of requests waiting to be sent, beyond which new ones are refused
  // at once: a server that does not keep up costs bounded memory.
  size_t max_queued_bytes = 64 << 20;
  // Messages sent and not yet fully answered, beyond which requests wait
  // (0: no limit). A small window makes batches grow with the load: while
  // the peer works on one message, the next one fills.
  size_t max_unanswered_messages = 0;
  // Send the requests of a broken call again on the next one, and let calls
  // wait until the server can be reached (see above).
  bool resend_unanswered = false;
};

struct BatchStreamCounters {
  uint64_t requests = 0;  // sent
  uint64_t messages = 0;  // batches sent
  uint64_t refused = 0;   // refused because the queue was full
  uint64_t streams = 0;   // calls started
  uint64_t resent = 0;    // requests sent again after their call broke
};

// Whether a call that ended with `status` broke for want of its connection
// (the server went away, restarted or closed the stream), as opposed to a
// refusal that a new call would meet again.
inline bool BrokenConnection(const absl::Status& status) {
  return status.ok() || absl::IsUnavailable(status) ||
         absl::IsCancelled(status) || absl::IsInternal(status) ||
         absl::IsUnknown(status);
}

template <typename Request, typename Reply, typename RequestBatch,
          typename ReplyBatch>
class BatchStream {
 public:
  using Done = std::function<void(absl::StatusOr<Reply>)>;
  using Reactor = grpc::ClientBidiReactor<RequestBatch, ReplyBatch>;
  // Binds a new call of the streaming method to `reactor` (for a generated
  // stub: stub->async()->Method(context, reactor)).
  using Bind = std::function<void(grpc::ClientContext*, Reactor*)>;

  // `what` names the server in errors ("peer 10.0.0.2:7101").
  BatchStream(std::string what, Bind bind, BatchStreamOptions options = {})
      : what_(std::move(what)), bind_(std::move(bind)), options_(options) {}
  // Cancels the stream and fails every request still waiting; returns once
  // gRPC has let go of the call.
  ~BatchStream();
  BatchStream(const BatchStream&) = delete;
  BatchStream& operator=(const BatchStream&) = delete;

  // Queues `request` (its id is set here) for the next message. A reply
  // that carries an error arrives as that error. Returns the id (0 when the
  // request was refused at once).
  uint64_t Send(Request request, absl::Time deadline, Done done);

  // Gives up on request `id`: CANCELLED now, unless it was answered
  // already. A request not sent yet is never sent; one sent is still
  // handled by the peer, whose reply is dropped.
  void Cancel(uint64_t id);

  // Fails, with DEADLINE_EXCEEDED, the requests whose deadline is at or
  // before `now`. The owner calls it every few milliseconds.
  void ExpireOverdue(absl::Time now);

  // The owner is stopping. With `wait_for_answers`, requests already sent
  // on a live call may still be answered, but none is sent again if it
  // breaks; without it, every request still waiting fails now (CANCELLED)
  // and the call is cancelled. Later requests are refused either way.
  void Close(bool wait_for_answers);

  BatchStreamCounters counters() const {
    absl::MutexLock lock(&mu_);
    return counters_;
  }
  size_t queued_bytes() const {
    absl::MutexLock lock(&mu_);
    return queued_bytes_;
  }

 private:
  class Call;
  struct Queued {
    Request request;
    size_t bytes;
    absl::Time deadline;
    Done done;
  };
  struct Pending {
    absl::Time deadline;
    Done done;
    uint64_t call;     // the generation of the call that carried it
    uint64_t message;  // the message that carried it
    size_t bytes = 0;
    // Whether its message's write failed: gRPC took none of it, so the
    // server cannot have it. While the write is on its way, or once it
    // succeeded, the server may have it.
    bool write_failed = false;
    // With resend_unanswered: the request itself, taken back from its
    // message once written, to go again if the call breaks.
    std::optional<Request> request;
  };

  // Starts the next message if the call is free and requests are queued.
  void Pump();
  void OnReplies(ReplyBatch& batch);
  void OnWriteDone(Call* call, bool ok);
  // Records how the write of `call`'s message went for each request still
  // pending, and (resend_unanswered) takes the requests back into their
  // pending entries, so that a break can send them again.
  void WrittenLocked(Call* call, bool ok) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // The stream lets go of `call` (its read or a write failed); releases its
  // hold unless a thread is still about to use it.
  void Detach(Call* call);
  // Whether `call`'s hold may go now; sets it as released if so.
  bool ReleasableLocked(Call* call) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // A thread is done starting or writing to `call` outside the lock.
  void DoneOutside(Call* call);
  void OnCallDone(uint64_t generation, const absl::Status& status);
  void CallGone();
  // Forgets a pending request; true when that completes its message and so
  // may let the next one go.
  bool Answered(const Pending& pending) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  const std::string what_;
  const Bind bind_;
  const BatchStreamOptions options_;

  mutable absl::Mutex mu_;
  Call* call_ ABSL_GUARDED_BY(mu_) = nullptr;  // the live call, if any
  uint64_t generation_ ABSL_GUARDED_BY(mu_) = 0;
  int live_calls_ ABSL_GUARDED_BY(mu_) = 0;  // not yet done, current included
  bool writing_ ABSL_GUARDED_BY(mu_) = false;
  bool closing_ ABSL_GUARDED_BY(mu_) = false;  // no request is taken
  bool cancelled_ ABSL_GUARDED_BY(mu_) = false;  // the call was cancelled
  uint64_t next_id_ ABSL_GUARDED_BY(mu_) = 0;
  std::deque<Queued> queue_ ABSL_GUARDED_BY(mu_);
  size_t queued_bytes_ ABSL_GUARDED_BY(mu_) = 0;
  absl::flat_hash_map<uint64_t, Pending> pending_ ABSL_GUARDED_BY(mu_);
  uint64_t next_message_ ABSL_GUARDED_BY(mu_) = 0;
  // Requests still unanswered, per message that has any.
  absl::flat_hash_map<uint64_t, int> unanswered_ ABSL_GUARDED_BY(mu_);
  BatchStreamCounters counters_ ABSL_GUARDED_BY(mu_);
};

// Implementation.

// One streaming call. gRPC owns it from StartCall until OnDone; the stream
// takes a reference while it cancels it, so it is deleted by whoever lets go
// last.
template <typename Request, typename Reply, typename RequestBatch,
          typename ReplyBatch>
class BatchStream<Request, Reply, RequestBatch, ReplyBatch>::Call final
    : public Reactor {
 public:
  Call(BatchStream* stream, uint64_t generation)
      : stream_(stream), generation_(generation) {
    // A server that restarts is reached as soon as it listens again; until
    // then the requests wait (their deadlines still apply).
    if (stream_->options_.resend_unanswered) context_.set_wait_for_ready(true);
    stream_->bind_(&context_, this);
    // Released once the stream has let go of the call and no thread is
    // about to write to it: until then gRPC may not finish (and free) it,
    // even when the connection fails at once.
    this->AddHold();
  }

  void Start() {
    this->StartRead(&in_);
    this->StartCall();
  }
  void Ref() { refs_.fetch_add(1); }
  void Unref() {
    if (refs_.fetch_sub(1) == 1) delete this;
  }
  void Cancel() { context_.TryCancel(); }
  // The message being written; touched by the stream only between choosing
  // this call for a write (under its lock) and OnWriteDone.
  RequestBatch& out() { return out_; }
  void Write() { this->StartWrite(&out_); }

  void OnWriteDone(bool ok) override { stream_->OnWriteDone(this, ok); }
  void OnReadDone(bool ok) override {
    if (!ok) {
      // The call is over; OnDone follows once the hold is released.
      stream_->Detach(this);
      return;
    }
    {
      // What the callbacks send in turn leaves batched too.
      BatchCork cork;
      stream_->OnReplies(in_);
    }
    in_.Clear();
    this->StartRead(&in_);
  }
  void OnDone(const grpc::Status& status) override {
    BatchStream* const stream = stream_;
    stream->OnCallDone(generation_, FromGrpcStatus(status));
    // The call (and its gRPC context) goes before the stream may: a stream
    // destroyed at process exit must not leave a call behind.
    Unref();
    stream->CallGone();
  }

 private:
  friend class BatchStream;
  BatchStream* const stream_;
  const uint64_t generation_;
  std::atomic<int> refs_{1};
  // Guarded by the stream's mutex: threads about to start or write to the
  // call outside it, whether the stream has let go of it, and whether the
  // hold is released.
  int outside_ = 0;
  bool detached_ = false;
  bool hold_released_ = false;
  grpc::ClientContext context_;
  RequestBatch out_;
  ReplyBatch in_;
};

template <typename Request, typename Reply, typename RequestBatch,
          typename ReplyBatch>
BatchStream<Request, Reply, RequestBatch, ReplyBatch>::~BatchStream() {
  Close(/*wait_for_answers=*/false);
  absl::MutexLock lock(&mu_);
  auto idle = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    return live_calls_ == 0;
  };
  mu_.Await(absl::Condition(&idle));
}

template <typename Request, typename Reply, typename RequestBatch,
          typename ReplyBatch>
void BatchStream<Request, Reply, RequestBatch, ReplyBatch>::Close(
    bool wait_for_answers) {
  Call* call = nullptr;
  std::deque<Queued> unsent;
  {
    absl::MutexLock lock(&mu_);
    closing_ = true;
    if (!wait_for_answers && !cancelled_) {
      cancelled_ = true;
      call = call_;
      if (call != nullptr) call->Ref();
    }
    unsent.swap(queue_);
    queued_bytes_ = 0;
  }
  for (Queued& q : unsent) {
    q.done(absl::CancelledError(absl::StrCat(what_, ": shutting down")));
  }
  // What the call carried fails as it ends (OnCallDone), never resent.
  if (call != nullptr) {
    call->Cancel();
    call->Unref();
  }
}

template <typename Request, typename Reply, typename RequestBatch,
          typename ReplyBatch>
uint64_t BatchStream<Request, Reply, RequestBatch, ReplyBatch>::Send(
    Request request, absl::Time deadline, Done done) {
  const size_t bytes = request.ByteSizeLong();
  absl::Status refused;
  uint64_t id = 0;
  {
    absl::MutexLock lock(&mu_);
    if (closing_) {
      refused = absl::CancelledError(absl::StrCat(what_, ": shutting down"));
    } else if (!queue_.empty() &&
               queued_bytes_ + bytes > options_.max_queued_bytes) {
      ++counters_.refused;
      refused = absl::UnavailableError(
          absl::StrCat(what_, " is not keeping up: ", queued_bytes_,
                       " bytes already queued for it"));
    } else {
      id = ++next_id_;
      request.set_id(id);
      queue_.push_back(
          Queued{std::move(request), bytes, deadline, std::move(done)});
      queued_bytes_ += bytes;
    }
  }
  if (!refused.ok()) {
    done(std::move(refused));
    return 0;
  }
  // Under a cork the request leaves with the others its thread is making.
  if (!BatchCork::Defer(
          this, [](void* self) { static_cast<BatchStream*>(self)->Pump(); })) {
    Pump();
  }
  return id;
}

template <typename Request, typename Reply, typename RequestBatch,
          typename ReplyBatch>
void BatchStream<Request, Reply, RequestBatch, ReplyBatch>::Cancel(
    uint64_t id) {
  Done done;
  bool released = false;
  {
    absl::MutexLock lock(&mu_);
    auto queued = std::find_if(queue_.begin(), queue_.end(), [id](const Queued& q) {
      return q.request.id() == id;
    });
    if (queued != queue_.end()) {
      done = std::move(queued->done);
      queued_bytes_ -= queued->bytes;
      queue_.erase(queued);
    } else if (auto it = pending_.find(id); it != pending_.end()) {
      done = std::move(it->second.done);
      released = Answered(it->second);
      pending_.erase(it);
    }
  }
  if (released) Pump();
  if (done) done(absl::CancelledError(absl::StrCat(what_, ": cancelled")));
}

template <typename Request, typename Reply, typename RequestBatch,
          typename ReplyBatch>
void BatchStream<Request, Reply, RequestBatch, ReplyBatch>::Pump() {
  Call* start = nullptr;
  Call* write = nullptr;
  {
    absl::MutexLock lock(&mu_);
    if (closing_ || queue_.empty()) return;
    if (call_ == nullptr) {
      call_ = new Call(this, ++generation_);
      ++live_calls_;
      ++counters_.streams;
      writing_ = false;
      start = call_;
      ++start->outside_;
    }
    if (!writing_ && (options_.max_unanswered_messages == 0 ||
                      unanswered_.size() < options_.max_unanswered_messages)) {
      const uint64_t message = ++next_message_;
      RequestBatch& batch = call_->out();
      batch.Clear();
      size_t bytes = 0;
      while (!queue_.empty() &&
             static_cast<size_t>(batch.requests_size()) <
                 options_.max_batch_requests &&
             (batch.requests_size() == 0 ||
              bytes + queue_.front().bytes <= options_.max_batch_bytes)) {
        Queued& q = queue_.front();
        pending_.emplace(q.request.id(),
                         Pending{q.deadline, std::move(q.done), generation_,
                                 message, q.bytes, false, std::nullopt});
        bytes += q.bytes;
        queued_bytes_ -= q.bytes;
        batch.mutable_requests()->Add(std::move(q.request));
        queue_.pop_front();
      }
      unanswered_[message] = batch.requests_size();
      writing_ = true;
      ++counters_.messages;
      counters_.requests += batch.requests_size();
      write = call_;
      ++write->outside_;
    }
  }
  // Outside the lock: gRPC may run reactions on this thread. A write may
  // precede StartCall; gRPC holds it until the call starts. The counts of
  // threads outside keep the call's hold, and so the call, alive meanwhile.
  if (write != nullptr) {
    write->Write();
    DoneOutside(write);
  }
  if (start != nullptr) {
    start->Start();
    DoneOutside(start);
  }
}

template <typename Request, typename Reply, typename RequestBatch,
          typename ReplyBatch>
bool BatchStream<Request, Reply, RequestBatch, ReplyBatch>::ReleasableLocked(
    Call* call) {
  if (!call->detached_ || call->outside_ > 0 || call->hold_released_) {
    return false;
  }
  call->hold_released_ = true;
  return true;
}

template <typename Request, typename Reply, typename RequestBatch,
          typename ReplyBatch>
void BatchStream<Request, Reply, RequestBatch, ReplyBatch>::Detach(Call* call) {
  bool release;
  {
    absl::MutexLock lock(&mu_);
    call->detached_ = true;
    if (call_ == call) {
      call_ = nullptr;
      writing_ = false;
    }
    release = ReleasableLocked(call);
  }
  if (release) call->RemoveHold();
}

template <typename Request, typename Reply, typename RequestBatch,
          typename ReplyBatch>
void BatchStream<Request, Reply, RequestBatch, ReplyBatch>::DoneOutside(
    Call* call) {
  bool release;
  {
    absl::MutexLock lock(&mu_);
    --call->outside_;
    release = ReleasableLocked(call);
  }
  if (release) call->RemoveHold();
}

template <typename Request, typename Reply, typename RequestBatch,
          typename ReplyBatch>
void BatchStream<Request, Reply, RequestBatch, ReplyBatch>::OnWriteDone(
    Call* call, bool ok) {
  {
    absl::MutexLock lock(&mu_);
    WrittenLocked(call, ok);
    if (call != call_) return;  // a call already replaced
    writing_ = false;
  }
  // A failed write means the call is broken: its OnDone fails what it
  // carried, and the next request starts a new call.
  if (!ok) Detach(call);
  Pump();
}

template <typename Request, typename Reply, typename RequestBatch,
          typename ReplyBatch>
void BatchStream<Request, Reply, RequestBatch, ReplyBatch>::WrittenLocked(
    Call* call, bool ok) {
  // Nothing else touches the message between its write and the next one,
  // which Pump() starts under this lock once writing_ is false.
  for (Request& request : *call->out().mutable_requests()) {
    auto it = pending_.find(request.id());
    // Answered already, or expired: nothing to keep.
    if (it == pending_.end() || it->second.call != call->generation_) continue;
    it->second.write_failed = !ok;
    if (options_.resend_unanswered) it->second.request = std::move(request);
  }
  call->out().Clear();
}

template <typename Request, typename Reply, typename RequestBatch,
          typename ReplyBatch>
void BatchStream<Request, Reply, RequestBatch, ReplyBatch>::OnReplies(
    ReplyBatch& batch) {
  std::vector<std::pair<Done, Reply*>> ready;
  ready.reserve(batch.replies_size());
  bool released = false;
  {
    absl::MutexLock lock(&mu_);
    for (Reply& reply : *batch.mutable_replies()) {
      auto it = pending_.find(reply.id());
      if (it == pending_.end()) continue;  // expired meanwhile
      ready.emplace_back(std::move(it->second.done), &reply);
      released |= Answered(it->second);
      pending_.erase(it);
    }
  }
  if (released) Pump();
  for (auto& [done, reply] : ready) {
    if (reply->has_error()) {
      done(FromRequestError(reply->error()));
    } else {
      done(std::move(*reply));
    }
  }
}

template <typename Request, typename Reply, typename RequestBatch,
          typename ReplyBatch>
void BatchStream<Request, Reply, RequestBatch, ReplyBatch>::OnCallDone(
    uint64_t generation, const absl::Status& status) {
  // A refusal of the whole stream (no or a wrong token) is every request's
  // answer as it is; anything else is a stream that broke: retry elsewhere,
  // or on the next call when requests are safe to repeat.
  const bool refused = absl::IsUnauthenticated(status) ||
                       absl::IsPermissionDenied(status);
  const bool resend = options_.resend_unanswered && !refused &&
                      BrokenConnection(status);
  const absl::Time now = absl::Now();
  std::vector<std::pair<Done, bool>> failed;  // and whether it was sent
  bool more;
  {
    absl::MutexLock lock(&mu_);
    std::vector<Queued> again;
    for (auto it = pending_.begin(); it != pending_.end();) {
      if (it->second.call != generation) {
        ++it;
        continue;
      }
      Pending& p = it->second;
      Answered(p);
      if (resend && !closing_ && p.request.has_value() && p.deadline > now) {
        again.push_back(
            Queued{*std::move(p.request), p.bytes, p.deadline, std::move(p.done)});
      } else {
        failed.emplace_back(std::move(p.done), !p.write_failed);
      }
      pending_.erase(it++);
    }
    // In the order they were first sent, before anything queued since.
    std::sort(again.begin(), again.end(), [](const Queued& a, const Queued& b) {
      return a.request.id() < b.request.id();
    });
    for (auto q = again.rbegin(); q != again.rend(); ++q) {
      queued_bytes_ += q->bytes;
      queue_.push_front(std::move(*q));
    }
    counters_.resent += again.size();
    if (call_ != nullptr && generation_ == generation) {
      call_ = nullptr;
      writing_ = false;
    }
    more = !closing_ && !queue_.empty();
  }
  const absl::Status broken(
      refused ? status.code() : absl::StatusCode::kUnavailable,
      absl::StrCat(refused ? "refused by " : "stream to ", what_,
                   refused ? ": " : " broke before it answered: ",
                   status.ok() ? "closed by the peer" : status.message()));
  // Sent and unanswered: the server may have acted on it.
  for (auto& [done, sent] : failed) done(sent ? MarkSent(broken) : broken);
  if (more) Pump();
}

template <typename Request, typename Reply, typename RequestBatch,
          typename ReplyBatch>
void BatchStream<Request, Reply, RequestBatch, ReplyBatch>::CallGone() {
  // Last: the destructor may return once no call is live.
  absl::MutexLock lock(&mu_);
  --live_calls_;
}

template <typename Request, typename Reply, typename RequestBatch,
          typename ReplyBatch>
void BatchStream<Request, Reply, RequestBatch, ReplyBatch>::ExpireOverdue(
    absl::Time now) {
  std::vector<Done> unsent;
  std::vector<std::pair<Done, bool>> unanswered;  // and whether it was sent
  bool released = false;
  {
    absl::MutexLock lock(&mu_);
    for (auto it = queue_.begin(); it != queue_.end();) {
      if (it->deadline <= now) {
        unsent.push_back(std::move(it->done));
        queued_bytes_ -= it->bytes;
        it = queue_.erase(it);
      } else {
        ++it;
      }
    }
    for (auto it = pending_.begin(); it != pending_.end();) {
      if (it->second.deadline <= now) {
        unanswered.emplace_back(std::move(it->second.done),
                                !it->second.write_failed);
        released |= Answered(it->second);
        pending_.erase(it++);
      } else {
        ++it;
      }
    }
  }
  for (Done& done : unsent) {
    done(absl::DeadlineExceededError(absl::StrCat(
        "deadline passed before the request was sent to ", what_)));
  }
  for (auto& [done, sent] : unanswered) {
    absl::Status late = absl::DeadlineExceededError(
        absl::StrCat(what_, " did not answer in time"));
    done(sent ? MarkSent(std::move(late)) : std::move(late));
  }
  if (released) Pump();
}

template <typename Request, typename Reply, typename RequestBatch,
          typename ReplyBatch>
bool BatchStream<Request, Reply, RequestBatch, ReplyBatch>::Answered(
    const Pending& pending) {
  auto it = unanswered_.find(pending.message);
  if (it == unanswered_.end() || --it->second > 0) return false;
  unanswered_.erase(it);
  return true;
}

}  // namespace quorumkv

#endif  // QUORUMKV_COMMON_BATCH_STREAM_H_
