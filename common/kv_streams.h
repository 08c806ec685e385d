// Streams to KvService servers: one KvService.Batch call per address, over
// which every request to that server travels, many per message, each with
// its own deadline and answer (common/batch_stream.h). The SDK uses them for
// storage nodes (iterative) and the master (recursive), the master's relay
// for storage nodes. Thread-safe; streams live as long as the set.
#ifndef QUORUMKV_COMMON_KV_STREAMS_H_
#define QUORUMKV_COMMON_KV_STREAMS_H_

#include <memory>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/synchronization/mutex.h"
#include "common/batch_stream.h"
#include "common/grpc_util.h"
#include "common/periodic_task.h"
#include "proto/kv.grpc.pb.h"

namespace quorumkv {

using KvStream =
    BatchStream<KvRequest, KvReply, KvRequestBatch, KvReplyBatch>;

class KvStreams {
 public:
  // Every stream's channel is secured as `security` says.
  explicit KvStreams(ChannelSecurity security = {});
  // Cancels every stream; requests still waiting get an answer first.
  ~KvStreams();

  // The stream to `address`, made on first use. Never null.
  KvStream* Get(const std::string& address);

 private:
  std::vector<KvStream*> All();

  const ChannelSecurity security_;

  absl::Mutex mu_;
  absl::flat_hash_map<std::string, std::unique_ptr<KvStream>> streams_
      ABSL_GUARDED_BY(mu_);
  PeriodicTask sweeper_;  // Enforces deadlines. Last: stopped first.
};

}  // namespace quorumkv

#endif  // QUORUMKV_COMMON_KV_STREAMS_H_
