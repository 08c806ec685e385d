// The per-peer stream: one long-lived ReplicaService.Exchange call from this
// node to one peer, carrying every write, read, read repair and hint for it,
// many per message (common/batch_stream.h says how batches form and what
// each request's answer can be). The peer answers a message's writes with
// one RocksDB write (storage_node/replica_service.h).
#ifndef QUORUMKV_STORAGE_NODE_PEER_STREAM_H_
#define QUORUMKV_STORAGE_NODE_PEER_STREAM_H_

#include <memory>
#include <string>

#include "common/batch_stream.h"
#include "grpcpp/channel.h"
#include "proto/replica.grpc.pb.h"

namespace quorumkv {

using PeerStream =
    BatchStream<PeerRequest, PeerReply, PeerRequestBatch, PeerReplyBatch>;

// How the per-peer stream batches: a peer answers each message as a whole,
// at once, so while one message is with it the next one fills. Everything
// it carries is safe to send twice (a write carries its version; reads,
// trees and rows change nothing), so a stream that breaks (the peer
// restarted) sends its unanswered requests again on a new one.
inline BatchStreamOptions PeerStreamOptions() {
  BatchStreamOptions options;
  options.max_unanswered_messages = 1;
  options.resend_unanswered = true;
  return options;
}

// A stream to the peer at `address` over `channel`.
inline std::unique_ptr<PeerStream> ConnectPeerStream(
    const std::string& address, std::shared_ptr<grpc::Channel> channel,
    BatchStreamOptions options = PeerStreamOptions()) {
  std::shared_ptr<ReplicaService::Stub> stub = ReplicaService::NewStub(channel);
  return std::make_unique<PeerStream>(
      "peer " + address,
      [stub](grpc::ClientContext* context, PeerStream::Reactor* reactor) {
        stub->async()->Exchange(context, reactor);
      },
      options);
}

}  // namespace quorumkv

#endif  // QUORUMKV_STORAGE_NODE_PEER_STREAM_H_
