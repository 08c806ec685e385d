// The SDK's streams to storage nodes: one KvService.Batch call per node
// address, over which every iterative request to that node travels, many
// per message, each with its own deadline and answer (common/batch_stream.h).
// Thread-safe; streams live as long as the set.
#ifndef QUORUMKV_CLIENT_NODE_STREAM_H_
#define QUORUMKV_CLIENT_NODE_STREAM_H_

#include <memory>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/synchronization/mutex.h"
#include "common/batch_stream.h"
#include "common/periodic_task.h"
#include "proto/kv.grpc.pb.h"

namespace quorumkv {

using NodeStream =
    BatchStream<KvRequest, KvReply, KvRequestBatch, KvReplyBatch>;

class NodeStreams {
 public:
  NodeStreams();
  // Cancels every stream; requests still waiting get an answer first.
  ~NodeStreams();

  // The stream to `address`, made on first use. Never null.
  NodeStream* Get(const std::string& address);

 private:
  std::vector<NodeStream*> All();

  absl::Mutex mu_;
  absl::flat_hash_map<std::string, std::unique_ptr<NodeStream>> streams_
      ABSL_GUARDED_BY(mu_);
  PeriodicTask sweeper_;  // Enforces deadlines. Last: stopped first.
};

}  // namespace quorumkv

#endif  // QUORUMKV_CLIENT_NODE_STREAM_H_
