#include "common/kv_streams.h"

#include "absl/time/clock.h"
#include "common/grpc_util.h"

namespace quorumkv {
namespace {

// How often deadlines are enforced: a small fraction of any timeout.
constexpr absl::Duration kSweepInterval = absl::Milliseconds(5);

}  // namespace

KvStreams::KvStreams(ChannelSecurity security)
    : security_(std::move(security)),
      sweeper_([this] {
        const absl::Time now = absl::Now();
        for (KvStream* stream : All()) stream->ExpireOverdue(now);
        return kSweepInterval;
      }) {
  sweeper_.Start();
}

KvStreams::~KvStreams() { sweeper_.Stop(); }

KvStream* KvStreams::Get(const std::string& address) {
  {
    absl::ReaderMutexLock lock(&mu_);
    auto it = streams_.find(address);
    if (it != streams_.end()) return it->second.get();
  }
  absl::MutexLock lock(&mu_);
  std::unique_ptr<KvStream>& stream = streams_[address];
  if (stream == nullptr) {
    std::shared_ptr<KvService::Stub> stub =
        KvService::NewStub(MakeChannel(address, security_));
    stream = std::make_unique<KvStream>(
        "server " + address,
        [stub](grpc::ClientContext* context, KvStream::Reactor* reactor) {
          stub->async()->Batch(context, reactor);
        });
  }
  return stream.get();
}

std::vector<KvStream*> KvStreams::All() {
  std::vector<KvStream*> streams;
  absl::ReaderMutexLock lock(&mu_);
  for (const auto& [address, stream] : streams_) streams.push_back(stream.get());
  return streams;
}

}  // namespace quorumkv
