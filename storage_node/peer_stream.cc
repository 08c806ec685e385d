#include "storage_node/peer_stream.h"

#include <atomic>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "common/rpc_status.h"
#include "grpcpp/support/client_callback.h"

namespace quorumkv {

// One Exchange call. gRPC owns it from StartCall until OnDone; the stream
// takes a reference while it cancels it, so it is deleted by whoever lets go
// last.
class PeerStream::Call final
    : public grpc::ClientBidiReactor<PeerRequestBatch, PeerReplyBatch> {
 public:
  Call(PeerStream* stream, uint64_t generation)
      : stream_(stream), generation_(generation) {
    stream_->stub_->async()->Exchange(&context_, this);
  }

  void Start() {
    StartRead(&in_);
    StartCall();
  }
  void Ref() { refs_.fetch_add(1); }
  void Unref() {
    if (refs_.fetch_sub(1) == 1) delete this;
  }
  void Cancel() { context_.TryCancel(); }
  // The message being written; touched by the stream only between choosing
  // this call for a write (under its lock) and OnWriteDone.
  PeerRequestBatch& out() { return out_; }
  void Write() { StartWrite(&out_); }

  void OnWriteDone(bool ok) override { stream_->OnWriteDone(generation_, ok); }
  void OnReadDone(bool ok) override {
    if (!ok) return;  // OnDone follows
    stream_->OnReplies(in_);
    in_.Clear();
    StartRead(&in_);
  }
  void OnDone(const grpc::Status& status) override {
    stream_->OnCallDone(generation_, FromGrpcStatus(status));
    Unref();
  }

 private:
  PeerStream* const stream_;
  const uint64_t generation_;
  std::atomic<int> refs_{1};
  grpc::ClientContext context_;
  PeerRequestBatch out_;
  PeerReplyBatch in_;
};

PeerStream::PeerStream(std::string address,
                       std::unique_ptr<ReplicaService::Stub> stub,
                       PeerStreamOptions options)
    : address_(std::move(address)),
      stub_(std::move(stub)),
      options_(options) {}

PeerStream::~PeerStream() {
  Call* call = nullptr;
  std::deque<Queued> unsent;
  {
    absl::MutexLock lock(&mu_);
    closing_ = true;
    call = call_;
    if (call != nullptr) call->Ref();
    unsent.swap(queue_);
    queued_bytes_ = 0;
  }
  for (Queued& q : unsent) {
    q.done(absl::CancelledError(
        absl::StrCat("peer ", address_, ": this node is shutting down")));
  }
  if (call != nullptr) {
    call->Cancel();
    call->Unref();
  }
  absl::MutexLock lock(&mu_);
  auto idle = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    return live_calls_ == 0;
  };
  mu_.Await(absl::Condition(&idle));
}

void PeerStream::Send(PeerRequest request, absl::Time deadline, Done done) {
  const size_t bytes = request.ByteSizeLong();
  absl::Status refused;
  {
    absl::MutexLock lock(&mu_);
    if (closing_) {
      refused = absl::CancelledError(
          absl::StrCat("peer ", address_, ": this node is shutting down"));
    } else if (!queue_.empty() &&
               queued_bytes_ + bytes > options_.max_queued_bytes) {
      ++counters_.refused;
      refused = absl::UnavailableError(absl::StrCat(
          "peer ", address_, " is not keeping up: ", queued_bytes_,
          " bytes already queued for it"));
    } else {
      request.set_id(++next_id_);
      queue_.push_back(Queued{std::move(request), bytes, deadline,
                              std::move(done)});
      queued_bytes_ += bytes;
    }
  }
  if (!refused.ok()) {
    done(std::move(refused));
    return;
  }
  Pump();
}

void PeerStream::Pump() {
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
    }
    if (!writing_) {
      PeerRequestBatch& batch = call_->out();
      batch.Clear();
      size_t bytes = 0;
      while (!queue_.empty() &&
             static_cast<size_t>(batch.requests_size()) <
                 options_.max_batch_requests &&
             (batch.requests_size() == 0 ||
              bytes + queue_.front().bytes <= options_.max_batch_bytes)) {
        Queued& q = queue_.front();
        pending_.emplace(q.request.id(),
                         Pending{q.deadline, std::move(q.done), generation_});
        bytes += q.bytes;
        queued_bytes_ -= q.bytes;
        batch.mutable_requests()->Add(std::move(q.request));
        queue_.pop_front();
      }
      writing_ = true;
      ++counters_.messages;
      counters_.requests += batch.requests_size();
      write = call_;
    }
  }
  // Outside the lock: gRPC may run reactions on this thread. A write may
  // precede StartCall; gRPC holds it until the call starts.
  if (write != nullptr) write->Write();
  if (start != nullptr) start->Start();
}

void PeerStream::OnWriteDone(uint64_t generation, bool ok) {
  {
    absl::MutexLock lock(&mu_);
    if (generation != generation_) return;  // a call already replaced
    writing_ = false;
    // A failed write means the call is broken: its OnDone fails what it
    // carried, and the next request starts a new call.
    if (!ok) call_ = nullptr;
  }
  Pump();
}

void PeerStream::OnReplies(PeerReplyBatch& batch) {
  std::vector<std::pair<Done, PeerReply*>> ready;
  ready.reserve(batch.replies_size());
  {
    absl::MutexLock lock(&mu_);
    for (PeerReply& reply : *batch.mutable_replies()) {
      auto it = pending_.find(reply.id());
      if (it == pending_.end()) continue;  // expired meanwhile
      ready.emplace_back(std::move(it->second.done), &reply);
      pending_.erase(it);
    }
  }
  for (auto& [done, reply] : ready) {
    if (reply->has_error()) {
      done(FromPeerError(reply->error()));
    } else {
      done(std::move(*reply));
    }
  }
}

void PeerStream::OnCallDone(uint64_t generation, const absl::Status& status) {
  std::vector<Done> failed;
  bool more;
  {
    absl::MutexLock lock(&mu_);
    for (auto it = pending_.begin(); it != pending_.end();) {
      if (it->second.call == generation) {
        failed.push_back(std::move(it->second.done));
        pending_.erase(it++);
      } else {
        ++it;
      }
    }
    if (call_ != nullptr && generation_ == generation) {
      call_ = nullptr;
      writing_ = false;
    }
    more = !closing_ && !queue_.empty();
  }
  const absl::Status broken = absl::UnavailableError(absl::StrCat(
      "stream to peer ", address_, " broke before it answered: ",
      status.ok() ? "closed by the peer" : status.message()));
  for (Done& done : failed) done(broken);
  if (more) Pump();
  // Last: the destructor may return once no call is live.
  absl::MutexLock lock(&mu_);
  --live_calls_;
}

void PeerStream::ExpireOverdue(absl::Time now) {
  std::vector<Done> expired;
  {
    absl::MutexLock lock(&mu_);
    for (auto it = queue_.begin(); it != queue_.end();) {
      if (it->deadline <= now) {
        expired.push_back(std::move(it->done));
        queued_bytes_ -= it->bytes;
        it = queue_.erase(it);
      } else {
        ++it;
      }
    }
    for (auto it = pending_.begin(); it != pending_.end();) {
      if (it->second.deadline <= now) {
        expired.push_back(std::move(it->second.done));
        pending_.erase(it++);
      } else {
        ++it;
      }
    }
  }
  for (Done& done : expired) {
    done(absl::DeadlineExceededError(
        absl::StrCat("peer ", address_, " did not answer in time")));
  }
}

PeerStreamCounters PeerStream::counters() const {
  absl::MutexLock lock(&mu_);
  return counters_;
}

size_t PeerStream::queued_bytes() const {
  absl::MutexLock lock(&mu_);
  return queued_bytes_;
}

}  // namespace quorumkv
