#include "doors/kv_gateway.h"

namespace quorumkv {

KvGateway::KvGateway(RoutingSource* source, LocalKvNode* local,
                     ChannelSecurity outgoing)
    : source_(source),
      local_(local),
      self_id_(local != nullptr ? local->node_id() : ""),
      streams_(std::move(outgoing)) {}

KvGateway::~KvGateway() { WaitIdle(); }

void KvGateway::WaitIdle() {
  absl::MutexLock lock(&mu_);
  auto idle = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    return in_flight_ == 0;
  };
  mu_.Await(absl::Condition(&idle));
}

}  // namespace quorumkv
