#include "storage_node/replica_service.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "common/grpc_util.h"
#include "common/batch_stream_server.h"
#include "common/rpc_status.h"
#include "storage_node/ownership.h"
#include "storage_node/replica_access.h"

namespace quorumkv {

ReplicaServiceImpl::ReplicaServiceImpl(std::string self_id, Engine* engine,
                                       HybridClock* clock,
                                       const DirectoryHolder* directory,
                                       std::function<void()> request_refresh,
                                       AntiEntropyServer anti_entropy,
                                       const TokenSet* tokens)
    : self_id_(std::move(self_id)),
      engine_(engine),
      clock_(clock),
      directory_(directory),
      request_refresh_(std::move(request_refresh)),
      anti_entropy_(std::move(anti_entropy)),
      acceptor_(engine, clock),
      auth_(tokens) {}

absl::Status ReplicaServiceImpl::CheckAccepts(const DirectoryView& directory,
                                              uint32_t partition,
                                              uint64_t sender_epoch,
                                              bool joining_ok) const {
  if (sender_epoch > directory.epoch()) {
    request_refresh_();
    return absl::OkStatus();
  }
  if (joining_ok && directory.IsJoining(self_id_, partition)) {
    return absl::OkStatus();
  }
  return CheckHolds(directory, self_id_, partition);
}

void ReplicaServiceImpl::AnswerRead(const ReadRequest& request,
                                    const DirectoryView& directory,
                                    PeerReply* reply) {
  absl::Status status =
      CheckAccepts(directory, request.partition(), request.directory_epoch(),
                   /*joining_ok=*/false);
  if (status.ok()) {
    auto value = engine_->Read(request.partition(), request.key());
    ReadResponse* response = reply->mutable_read();
    if (value.ok()) {
      // A version too far ahead is still the stored one; the clock just
      // does not follow it.
      clock_->Observe(value->version()).IgnoreError();
      response->set_found(true);
      *response->mutable_value() = *std::move(value);
    } else if (!absl::IsNotFound(value.status())) {
      status = value.status();
    }
  }
  if (!status.ok()) ToRequestError(status, reply->mutable_error());
}

void ReplicaServiceImpl::Answer(PeerRequestBatch& batch,
                                PeerReplyBatch* replies,
                                const std::function<void(PeerReply)>& later) {
  const DirectoryPtr directory = directory_->Get();
  std::vector<RowWrite> writes;
  std::vector<PeerReply*> write_replies;
  for (PeerRequest& request : *batch.mutable_requests()) {
    if (request.has_tree() || request.has_rows()) {
      if (request.tree().directory_epoch() > directory->epoch() ||
          request.rows().directory_epoch() > directory->epoch()) {
        request_refresh_();
      }
      anti_entropy_(request, later);
      continue;
    }
    PeerReply* reply = replies->add_replies();
    reply->set_id(request.id());
    if (request.has_read()) {
      AnswerRead(request.read(), *directory, reply);
      continue;
    }
    if (request.has_range()) {
      const RangeRequest& range = request.range();
      absl::Status accepted =
          CheckAccepts(*directory, range.partition(), range.directory_epoch(),
                       /*joining_ok=*/false);
      absl::StatusOr<RangeResponse> page =
          accepted.ok() ? ReadRangeHere(*engine_, range)
                        : absl::StatusOr<RangeResponse>(accepted);
      if (page.ok()) {
        *reply->mutable_range() = *std::move(page);
      } else {
        ToRequestError(page.status(), reply->mutable_error());
      }
      continue;
    }
    if (request.has_paxos()) {
      // A joining replica takes part in rounds (proposer.h says why).
      const PaxosRequest& step = request.paxos();
      absl::Status accepted =
          CheckAccepts(*directory, step.partition(), step.directory_epoch(),
                       /*joining_ok=*/true);
      if (accepted.ok() && step.phase() != PaxosRequest::COMMIT &&
          step.directory_epoch() < directory->epoch()) {
        // A round of an older directory may leave out a joining replica
        // that is about to replace another: it must not be chosen (a chosen
        // row's commit is stored whatever its round's epoch).
        WrongNode detail;
        detail.set_epoch(directory->epoch());
        detail.set_node_id(self_id_);
        detail.set_partition(step.partition());
        accepted = WrongNodeError(
            detail, absl::StrCat("node ", self_id_, " is at directory epoch ",
                                 directory->epoch(), ", past the round's ",
                                 step.directory_epoch()));
      }
      absl::StatusOr<PaxosResponse> answer =
          accepted.ok() ? acceptor_.Answer(step)
                        : absl::StatusOr<PaxosResponse>(accepted);
      if (answer.ok()) {
        *reply->mutable_paxos() = *std::move(answer);
      } else {
        ToRequestError(answer.status(), reply->mutable_error());
      }
      continue;
    }
    if (!request.has_apply()) {
      ToRequestError(absl::InvalidArgumentError("request without an operation"),
                  reply->mutable_error());
      continue;
    }
    const ApplyRequest& apply = request.apply();
    absl::Status accepted =
        CheckAccepts(*directory, apply.partition(), apply.directory_epoch(),
                     /*joining_ok=*/true);
    if (!accepted.ok()) {
      ToRequestError(accepted, reply->mutable_error());
      continue;
    }
    if (absl::Status skew = clock_->Observe(apply.value().version());
        !skew.ok()) {
      ToRequestError(skew, reply->mutable_error());
      continue;
    }
    writes.push_back({apply.partition(), apply.key(), &apply.value()});
    write_replies.push_back(reply);
  }
  if (writes.empty()) return;
  std::vector<bool> stored, had_value;
  const absl::Status status = engine_->ApplyMany(writes, &stored, &had_value);
  for (size_t i = 0; i < writes.size(); ++i) {
    if (status.ok()) {
      write_replies[i]->mutable_apply()->set_applied(stored[i]);
      write_replies[i]->mutable_apply()->set_had_value(had_value[i]);
    } else {
      ToRequestError(status, write_replies[i]->mutable_error());
    }
  }
}

grpc::ServerBidiReactor<PeerRequestBatch, PeerReplyBatch>*
ReplicaServiceImpl::Exchange(grpc::CallbackServerContext* context) {
  if (absl::Status s = auth_.Check(*context, Role::kAdmin); !s.ok()) {
    return RefuseStream<PeerRequestBatch, PeerReplyBatch>(s);
  }
  using Server = BatchStreamServer<PeerRequestBatch, PeerReplyBatch, PeerReply>;
  // Local work only: answered on the thread that read the message.
  return new Server([this](PeerRequestBatch& batch, Server::Responder out) {
    PeerReplyBatch replies;
    Answer(batch, &replies, [out](PeerReply reply) mutable {
      out.Send(std::move(reply));
    });
    for (PeerReply& reply : *replies.mutable_replies()) {
      out.Send(std::move(reply));
    }
  },
                    &open_streams_);
}

namespace {

// Bytes of rows per chunk: large enough to amortize a message, small enough
// that a chunk never nears the message limit (a 4 MiB value still fits one
// row per chunk).
constexpr size_t kChunkBytes = 256 * 1024;

class PartitionStreamer final
    : public grpc::ServerWriteReactor<PartitionChunk> {
 public:
  explicit PartitionStreamer(std::unique_ptr<Engine::PartitionScan> scan)
      : scan_(std::move(scan)) {
    SendNext();
  }

  void OnWriteDone(bool ok) override {
    if (!ok) {
      Finish(grpc::Status(grpc::StatusCode::CANCELLED,
                          "the receiver went away"));
      return;
    }
    if (!more_) {
      Finish(grpc::Status::OK);
      return;
    }
    SendNext();
  }
  void OnDone() override { delete this; }

 private:
  void SendNext() {
    chunk_.Clear();
    absl::StatusOr<bool> more = scan_->Next(kChunkBytes, &chunk_);
    if (!more.ok()) {
      Finish(ToGrpcStatus(more.status()));
      return;
    }
    more_ = *more;
    if (chunk_.rows_size() == 0 && !more_) {
      Finish(grpc::Status::OK);
      return;
    }
    StartWrite(&chunk_);
  }

  std::unique_ptr<Engine::PartitionScan> scan_;
  PartitionChunk chunk_;
  bool more_ = true;
};

}  // namespace

grpc::ServerWriteReactor<PartitionChunk>* ReplicaServiceImpl::StreamPartition(
    grpc::CallbackServerContext* context, const StreamPartitionRequest* request) {
  if (absl::Status s = auth_.Check(*context, Role::kAdmin); !s.ok()) {
    return RefuseWrites<PartitionChunk>(s);
  }
  DirectoryPtr directory = directory_->Get();
  if (request->directory_epoch() > directory->epoch()) {
    // Until this node routes by the receiver's directory it may coordinate
    // writes that skip the receiver; those must be in the snapshot.
    request_refresh_();
    return RefuseWrites<PartitionChunk>(absl::UnavailableError(absl::StrCat(
        "source ", self_id_, " is at directory epoch ", directory->epoch(),
        ", behind the receiver's ", request->directory_epoch(),
        "; retry shortly")));
  }
  if (absl::Status held = CheckHolds(*directory, self_id_, request->partition());
      !held.ok()) {
    return RefuseWrites<PartitionChunk>(held);
  }
  return new PartitionStreamer(
      engine_->ScanPartition(request->partition(), request->start_after()));
}

}  // namespace quorumkv
