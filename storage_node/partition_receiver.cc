#include "storage_node/partition_receiver.h"

#include <algorithm>
#include <thread>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "common/logging.h"
#include "common/rpc_status.h"

namespace quorumkv {
namespace {

constexpr absl::Duration kFirstBackoff = absl::Milliseconds(100);
constexpr absl::Duration kMaxBackoff = absl::Seconds(2);
// One call of a stream; a longer copy resumes in a new call after the last
// key applied, so this bounds the call, not the copy.
constexpr absl::Duration kCallDeadline = absl::Minutes(5);

}  // namespace

struct PartitionReceiver::Stream {
  explicit Stream(StreamTask t) : task(std::move(t)) {}

  absl::Mutex mu;
  StreamTask task ABSL_GUARDED_BY(mu);  // sources change as replicas fail
  bool cancelled ABSL_GUARDED_BY(mu) = false;
  grpc::ClientContext* active ABSL_GUARDED_BY(mu) = nullptr;  // to cancel
  uint64_t bytes ABSL_GUARDED_BY(mu) = 0;
  bool complete ABSL_GUARDED_BY(mu) = false;
  std::string error ABSL_GUARDED_BY(mu);
  // Per source id: the last key applied, and whether it is all copied.
  absl::flat_hash_map<std::string, std::string> resume_after ABSL_GUARDED_BY(mu);
  absl::flat_hash_set<std::string> done_sources ABSL_GUARDED_BY(mu);

  std::thread thread;
};

PartitionReceiver::PartitionReceiver(std::string self_id, Engine* engine,
                                     HybridClock* clock,
                                     const DirectoryHolder* directory,
                                     PeerSet* peers,
                                     std::function<void()> on_complete)
    : self_id_(std::move(self_id)),
      engine_(engine),
      clock_(clock),
      directory_(directory),
      peers_(peers),
      on_complete_(std::move(on_complete)) {}

PartitionReceiver::~PartitionReceiver() { Stop(); }

void PartitionReceiver::SetTasks(const std::vector<StreamTask>& tasks) {
  std::vector<std::unique_ptr<Stream>> ended;
  {
    absl::MutexLock lock(&mu_);
    if (stopped_) return;
    std::map<StreamKey, const StreamTask*> wanted;
    for (const StreamTask& task : tasks) {
      wanted[{task.partition(), task.move_epoch()}] = &task;
    }
    for (auto it = streams_.begin(); it != streams_.end();) {
      auto w = wanted.find(it->first);
      if (w == wanted.end()) {
        Stream* s = it->second.get();
        absl::MutexLock stream_lock(&s->mu);
        s->cancelled = true;
        if (s->active != nullptr) s->active->TryCancel();
        ended.push_back(std::move(it->second));
        it = streams_.erase(it);
        continue;
      }
      {
        absl::MutexLock stream_lock(&it->second->mu);
        it->second->task = *w->second;
      }
      wanted.erase(w);
      ++it;
    }
    for (const auto& [key, task] : wanted) {
      auto stream = std::make_unique<Stream>(*task);
      Stream* raw = stream.get();
      QKV_LOG(INFO) << "joining partition " << key.first << " (move epoch "
                    << key.second << "): streaming from "
                    << task->sources_size() << " source(s)";
      streams_[key] = std::move(stream);
      raw->thread = std::thread([this, raw] { Run(raw); });
    }
  }
  // Joined outside mu_: a stream's thread takes mu_ for nothing, but its
  // last chunk may still be applying.
  for (auto& stream : ended) stream->thread.join();
}

std::vector<StreamProgress> PartitionReceiver::Progress() const {
  std::vector<StreamProgress> result;
  absl::MutexLock lock(&mu_);
  for (const auto& [key, stream] : streams_) {
    absl::MutexLock stream_lock(&stream->mu);
    StreamProgress& p = result.emplace_back();
    p.set_partition(key.first);
    p.set_move_epoch(key.second);
    p.set_bytes_streamed(stream->bytes);
    p.set_complete(stream->complete);
    p.set_error(stream->error);
  }
  return result;
}

void PartitionReceiver::Stop() {
  std::map<StreamKey, std::unique_ptr<Stream>> streams;
  {
    absl::MutexLock lock(&mu_);
    stopped_ = true;
    streams.swap(streams_);
  }
  for (auto& [key, stream] : streams) {
    {
      absl::MutexLock stream_lock(&stream->mu);
      stream->cancelled = true;
      if (stream->active != nullptr) stream->active->TryCancel();
    }
    stream->thread.join();
  }
}

bool PartitionReceiver::Pause(Stream* stream, absl::Duration duration) {
  absl::MutexLock lock(&stream->mu);
  stream->mu.AwaitWithTimeout(absl::Condition(&stream->cancelled), duration);
  return !stream->cancelled;
}

void PartitionReceiver::Run(Stream* stream) {
  absl::Duration backoff = kFirstBackoff;
  while (true) {
    StreamTask task;
    {
      absl::MutexLock lock(&stream->mu);
      if (stream->cancelled) return;
      task = stream->task;
    }
    // Writes reach this node as a joining replica from coordinators at the
    // move's epoch; the sources refuse to stream before they are there too.
    absl::Status status;
    if (directory_->epoch() < task.move_epoch()) {
      status = absl::UnavailableError(absl::StrCat(
          "waiting for directory epoch ", task.move_epoch()));
    } else if (task.sources_size() == 0) {
      status = absl::UnavailableError("no live source to copy from");
    }
    bool all_done = status.ok();
    for (const NodeDescriptor& source : task.sources()) {
      if (!status.ok()) break;
      {
        absl::MutexLock lock(&stream->mu);
        if (stream->done_sources.contains(source.id())) continue;
      }
      status = CopyFrom(stream, source);
      if (status.ok()) {
        absl::MutexLock lock(&stream->mu);
        stream->done_sources.insert(source.id());
      } else {
        all_done = false;
      }
    }
    if (all_done) {
      {
        absl::MutexLock lock(&stream->mu);
        stream->complete = true;
        stream->error.clear();
        partitions_received_.fetch_add(1, std::memory_order_relaxed);
        QKV_LOG(INFO) << "partition " << task.partition() << " copied in ("
                      << stream->bytes << " bytes); waiting for the switch";
      }
      on_complete_();
      return;
    }
    {
      absl::MutexLock lock(&stream->mu);
      if (stream->cancelled) return;
      stream->error = std::string(status.message());
    }
    if (!Pause(stream, backoff)) return;
    backoff = std::min(backoff * 2, kMaxBackoff);
  }
}

absl::Status PartitionReceiver::CopyFrom(Stream* stream,
                                         const NodeDescriptor& source) {
  grpc::ClientContext context;
  context.set_deadline(absl::ToChronoTime(absl::Now() + kCallDeadline));
  StreamPartitionRequest request;
  uint64_t rate = 0;
  {
    absl::MutexLock lock(&stream->mu);
    if (stream->cancelled) return absl::CancelledError("move cancelled");
    stream->active = &context;
    request.set_partition(stream->task.partition());
    request.set_start_after(stream->resume_after[source.id()]);
    rate = stream->task.rate_bytes_per_sec();
  }
  request.set_directory_epoch(directory_->epoch());
  const uint32_t partition = request.partition();
  auto reader = peers_->Get(source.address())->StreamPartition(&context, request);
  const absl::Time started = absl::Now();
  uint64_t copied = 0;  // in this call, for pacing
  PartitionChunk chunk;
  absl::Status applied;
  while (applied.ok() && reader->Read(&chunk)) {
    uint64_t chunk_bytes = 0;
    for (const StreamedRow& row : chunk.rows()) {
      clock_->Observe(row.value().version()).IgnoreError();  // logged by the clock
      chunk_bytes += row.key().size() + row.value().value().size();
    }
    applied = engine_->ApplyBatch(partition, chunk.rows()).status();
    if (applied.ok() && chunk.paxos_size() > 0) {
      applied = engine_->MergePaxos(partition, chunk.paxos());
    }
    if (!applied.ok()) break;
    copied += chunk_bytes;
    bytes_received_.fetch_add(chunk_bytes, std::memory_order_relaxed);
    {
      absl::MutexLock lock(&stream->mu);
      stream->bytes += chunk_bytes;
      if (chunk.rows_size() > 0) {
        stream->resume_after[source.id()] =
            chunk.rows(chunk.rows_size() - 1).key();
      }
    }
    if (rate > 0) {
      // Paced by the receiver: gRPC's flow control then slows the source.
      const absl::Time due =
          started + absl::Seconds(static_cast<double>(copied) / rate);
      const absl::Duration ahead = due - absl::Now();
      if (ahead > absl::ZeroDuration() && !Pause(stream, ahead)) {
        context.TryCancel();
        break;
      }
    }
  }
  if (!applied.ok()) context.TryCancel();
  const grpc::Status finished = reader->Finish();
  {
    absl::MutexLock lock(&stream->mu);
    stream->active = nullptr;
  }
  if (!applied.ok()) return applied;
  if (!finished.ok()) {
    absl::Status status = FromGrpcStatus(finished);
    return absl::Status(status.code(),
                        absl::StrCat("streaming partition ", partition,
                                     " from ", source.id(), " (",
                                     source.address(), "): ", status.message()));
  }
  return absl::OkStatus();
}

}  // namespace quorumkv
