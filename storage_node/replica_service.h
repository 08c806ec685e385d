// ReplicaService (proto/replica.proto) of a storage node: what coordinators,
// read repair and hint replay send this replica over the per-peer stream,
// and the source side of partition streams. Local work only; every
// handler finishes on the callback thread without waiting on the network,
// but anti-entropy's scans, which run on a thread of their own.
#ifndef QUORUMKV_STORAGE_NODE_REPLICA_SERVICE_H_
#define QUORUMKV_STORAGE_NODE_REPLICA_SERVICE_H_

#include <functional>
#include <string>

#include "common/batch_stream_server.h"
#include "common/call_auth.h"
#include "common/directory.h"
#include "common/hlc.h"
#include "proto/replica.grpc.pb.h"
#include "storage_node/engine.h"
#include "storage_node/paxos/acceptor.h"

namespace quorumkv {

class ReplicaServiceImpl final : public ReplicaService::CallbackService {
 public:
  // Answers an anti-entropy request (tree or rows) off the gRPC thread, by
  // calling its second argument once.
  using AntiEntropyServer = std::function<void(
      const PeerRequest&, std::function<void(PeerReply)>)>;

  // Pointers must outlive the service.
  ReplicaServiceImpl(std::string self_id, Engine* engine, HybridClock* clock,
                     const DirectoryHolder* directory,
                     std::function<void()> request_refresh,
                     AntiEntropyServer anti_entropy, const TokenSet* tokens);

  // The server side of the per-peer stream: each message is answered as a
  // whole, its writes stored in one engine call, its replies sent as one
  // message (or merged with the next while one is being sent).
  grpc::ServerBidiReactor<PeerRequestBatch, PeerReplyBatch>* Exchange(
      grpc::CallbackServerContext* context) override;
  // The source side of a move: the partition's rows from one snapshot, one
  // bounded chunk per write, the next one read when the last is sent.
  grpc::ServerWriteReactor<PartitionChunk>* StreamPartition(
      grpc::CallbackServerContext* context,
      const StreamPartitionRequest* request) override;

  // Ends the open Batch/Exchange streams once what they carry is answered;
  // called before the server shuts down, which would otherwise wait for
  // them.
  void CloseStreams() { open_streams_.CloseAll(); }

 private:
  // Replicas accept writes for partitions they hold or join and, during a
  // move the coordinator already knows of, for those a newer directory
  // gives them. Reads only for partitions they hold in full.
  absl::Status CheckAccepts(const DirectoryView& directory, uint32_t partition,
                            uint64_t sender_epoch, bool joining_ok) const;
  // Answers the requests of `batch` into `replies`, but anti-entropy ones,
  // which are handed to the AntiEntropyServer and answered through `later`.
  void Answer(PeerRequestBatch& batch, PeerReplyBatch* replies,
              const std::function<void(PeerReply)>& later);
  void AnswerRead(const ReadRequest& request, const DirectoryView& directory,
                  PeerReply* reply);

  const std::string self_id_;
  Engine* const engine_;
  HybridClock* const clock_;
  const DirectoryHolder* const directory_;
  const std::function<void()> request_refresh_;
  const AntiEntropyServer anti_entropy_;
  PaxosAcceptor acceptor_;
  // Peers need an admin token (when the node has --auth_token_file).
  const CallAuthorizer auth_;
  OpenStreams open_streams_;
};

}  // namespace quorumkv

#endif  // QUORUMKV_STORAGE_NODE_REPLICA_SERVICE_H_
