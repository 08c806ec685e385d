// The server side of a batching stream (common/batch_stream.h): reads one
// message at a time and hands it to a handler, which answers each request
// once, at once or later and from any thread. Replies produced while one
// message is being written are merged into the next, so a busy stream
// answers with few, full messages. The call ends when the client goes away
// or the service closes its streams (OpenStreams), once every request it
// received has been answered.
//
// Reply must have `id`; ReplyBatch a repeated `replies`.
#ifndef QUORUMKV_COMMON_BATCH_STREAM_SERVER_H_
#define QUORUMKV_COMMON_BATCH_STREAM_SERVER_H_

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <utility>

#include "absl/container/flat_hash_set.h"
#include "absl/synchronization/mutex.h"
#include "common/batch_cork.h"
#include "common/cancellation.h"
#include "grpcpp/support/server_callback.h"

namespace quorumkv {

// A stream that can be asked to end.
class ClosableStream {
 public:
  virtual ~ClosableStream() = default;
  // Ends the call once every request already received is answered.
  virtual void Close() = 0;
};

// The open streams of one service, so that a server shutting down can end
// them: a client keeps its stream open for good, and gRPC's shutdown would
// otherwise wait out its whole grace period for it. Thread-safe.
class OpenStreams {
 public:
  // Returns false when the service is closing: then the stream must close
  // at once (it is registered all the same, and must be removed).
  bool Add(ClosableStream* stream) {
    absl::MutexLock lock(&mu_);
    streams_.insert(stream);
    return !closed_;
  }
  void Remove(ClosableStream* stream) {
    absl::MutexLock lock(&mu_);
    streams_.erase(stream);
  }
  // Closes every stream open now, and makes Add() refuse the later ones.
  void CloseAll() {
    absl::MutexLock lock(&mu_);
    closed_ = true;
    // Held across Close(), which never calls back into this object: a
    // stream cannot be removed, and so deleted, while it is being closed.
    for (ClosableStream* stream : streams_) stream->Close();
  }

 private:
  absl::Mutex mu_;
  bool closed_ ABSL_GUARDED_BY(mu_) = false;
  absl::flat_hash_set<ClosableStream*> streams_ ABSL_GUARDED_BY(mu_);
};

// Bytes of replies per message, as BatchStreamOptions::max_batch_bytes for
// requests.
inline constexpr size_t kMaxReplyBatchBytes = 1 << 20;

template <typename RequestBatch, typename ReplyBatch, typename Reply>
class BatchStreamServer final
    : public grpc::ServerBidiReactor<RequestBatch, ReplyBatch>,
      public ClosableStream {
 public:
  // Answers requests of a message; valid until the request's reply is given.
  class Responder {
   public:
    explicit Responder(BatchStreamServer* server) : server_(server) {}
    // Thread-safe; once per request of the message handed to the handler.
    void Send(Reply reply) { server_->Add(std::move(reply)); }
    // Raised when the client cancels the call or goes away; outlives it.
    const CancellationPtr& cancellation() const {
      return server_->cancellation_;
    }

   private:
    BatchStreamServer* const server_;
  };
  // Handles one message: every request in it gets exactly one Send(),
  // before or after the handler returns. Must not block.
  using Handler = std::function<void(RequestBatch& batch, Responder responder)>;

  // `open` (which must outlive the call) lists the stream while it lives.
  BatchStreamServer(Handler handler, OpenStreams* open)
      : handler_(std::move(handler)), open_(open) {
    this->StartRead(&in_);
    if (!open_->Add(this)) Close();
  }

  void Close() override {
    bool finish;
    {
      absl::MutexLock lock(&mu_);
      closing_ = true;
      finish = ShouldFinish();
    }
    if (finish) this->Finish(grpc::Status::OK);
  }

  void OnReadDone(bool ok) override {
    if (!ok) {
      bool finish;
      {
        absl::MutexLock lock(&mu_);
        reading_ = false;
        finish = ShouldFinish();
      }
      if (finish) this->Finish(grpc::Status::OK);
      return;
    }
    {
      absl::MutexLock lock(&mu_);
      // Closed (and finished) while this message was arriving: it cannot
      // be answered; the client sees the stream end and fails its requests.
      if (finished_) return;
      // Counted under the same lock that Close() checks, so the call cannot
      // finish while these requests wait for their answers.
      outstanding_ += in_.requests_size();
    }
    {
      // Replies given and requests sent on while handling the message leave
      // together.
      BatchCork cork;
      handler_(in_, Responder(this));
    }
    in_.Clear();
    bool finish = false;
    {
      absl::MutexLock lock(&mu_);
      if (closing_) {
        // Read no more: what was received is answered, then the call ends.
        reading_ = false;
        finish = ShouldFinish();
      }
    }
    if (finish) {
      this->Finish(grpc::Status::OK);
    } else if (!finish && ReadOn()) {
      this->StartRead(&in_);
    }
  }

  void OnWriteDone(bool ok) override {
    bool finish;
    {
      absl::MutexLock lock(&mu_);
      writing_ = false;
      if (!ok) broken_ = true;
      MaybeWrite();
      finish = ShouldFinish();
    }
    if (finish) this->Finish(grpc::Status::OK);
  }

  void OnCancel() override { cancellation_->Cancel(); }

  void OnDone() override {
    open_->Remove(this);
    delete this;
  }

 private:
  void Add(Reply reply) {
    bool finish = false;
    {
      absl::MutexLock lock(&mu_);
      queued_.mutable_replies()->Add(std::move(reply));
      // Under a cork the reply still counts as outstanding, so the call
      // cannot finish (and the reactor go) before the deferred flush.
      if (!deferred_) {
        deferred_ = BatchCork::Defer(this, [](void* self) {
          static_cast<BatchStreamServer*>(self)->Flush();
        });
      }
      if (deferred_) {
        ++deferred_replies_;
      } else {
        --outstanding_;
        MaybeWrite();
        finish = ShouldFinish();
      }
    }
    if (finish) this->Finish(grpc::Status::OK);
  }
  void Flush() {
    bool finish;
    {
      absl::MutexLock lock(&mu_);
      outstanding_ -= deferred_replies_;
      deferred_replies_ = 0;
      deferred_ = false;
      MaybeWrite();
      finish = ShouldFinish();
    }
    if (finish) this->Finish(grpc::Status::OK);
  }
  bool ReadOn() {
    absl::MutexLock lock(&mu_);
    return reading_;
  }
  void MaybeWrite() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    if (writing_ || broken_ || finished_ || queued_.replies_size() == 0) return;
    out_.Clear();
    // At most kMaxReplyBatchBytes of replies per message (at least one):
    // a few replies with large values would pass gRPC's message limit.
    auto* queued = queued_.mutable_replies();
    size_t bytes = 0;
    int taken = 0;
    while (taken < queued->size()) {
      const size_t reply_bytes = (*queued)[taken].ByteSizeLong();
      if (taken > 0 && bytes + reply_bytes > kMaxReplyBatchBytes) break;
      bytes += reply_bytes;
      ++taken;
    }
    if (taken == queued->size()) {
      out_.Swap(&queued_);
    } else {
      for (int i = 0; i < taken; ++i) {
        out_.mutable_replies()->Add(std::move((*queued)[i]));
      }
      queued->DeleteSubrange(0, taken);
    }
    writing_ = true;
    this->StartWrite(&out_);
  }
  // Whether to Finish() now (outside the lock: OnDone, which deletes the
  // reactor, may follow at once): only when nothing can touch the reactor
  // any more, no read, no write, no request still to be answered.
  bool ShouldFinish() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    if (finished_ || (reading_ && !closing_) || writing_ || outstanding_ > 0) {
      return false;
    }
    if (!broken_ && queued_.replies_size() > 0) return false;
    finished_ = true;
    return true;
  }

  const Handler handler_;
  const CancellationPtr cancellation_ = std::make_shared<Cancellation>();
  OpenStreams* const open_;
  RequestBatch in_;  // only the reading side touches it
  absl::Mutex mu_;
  ReplyBatch out_ ABSL_GUARDED_BY(mu_);
  ReplyBatch queued_ ABSL_GUARDED_BY(mu_);
  int64_t outstanding_ ABSL_GUARDED_BY(mu_) = 0;
  bool deferred_ ABSL_GUARDED_BY(mu_) = false;  // a flush is pending
  int64_t deferred_replies_ ABSL_GUARDED_BY(mu_) = 0;
  bool reading_ ABSL_GUARDED_BY(mu_) = true;
  bool closing_ ABSL_GUARDED_BY(mu_) = false;  // finish once drained
  bool writing_ ABSL_GUARDED_BY(mu_) = false;
  bool broken_ ABSL_GUARDED_BY(mu_) = false;
  bool finished_ ABSL_GUARDED_BY(mu_) = false;
};

}  // namespace quorumkv

#endif  // QUORUMKV_COMMON_BATCH_STREAM_SERVER_H_
