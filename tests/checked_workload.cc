#include "tests/checked_workload.h"

#include <random>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "tests/test_util.h"

namespace quorumkv {

CheckedWorkload::CheckedWorkload(std::vector<Client*> clients, int writers,
                                 int readers, int keys_per_writer)
    : clients_(std::move(clients)),
      writers_(writers),
      readers_(readers),
      keys_per_writer_(keys_per_writer) {
  for (size_t mode = 0; mode < clients_.size(); ++mode) {
    for (int w = 0; w < writers_; ++w) {
      for (int k = 0; k < keys_per_writer_; ++k) {
        history_[KeyName(mode, w, k)] = std::make_unique<KeyHistory>();
      }
    }
  }
}

CheckedWorkload::~CheckedWorkload() { Stop(); }

std::string CheckedWorkload::KeyName(int mode, int writer, int k) {
  return absl::StrCat("fault-", mode, "-", writer, "-", k);
}

void CheckedWorkload::Start() {
  for (size_t mode = 0; mode < clients_.size(); ++mode) {
    for (int w = 0; w < writers_; ++w) {
      threads_.emplace_back([this, mode, w] { Write(mode, w); });
    }
    for (int r = 0; r < readers_; ++r) {
      threads_.emplace_back([this, mode, r] { Read(mode, 17 + mode * 10 + r); });
    }
  }
}

void CheckedWorkload::Stop() {
  stop_ = true;
  for (std::thread& t : threads_) t.join();
  threads_.clear();
}

void CheckedWorkload::Write(int mode, int writer) {
  Client& client = *clients_[mode];
  int64_t sequence = 0;
  // Bounded in count as well as by Stop().
  for (int round = 0; !stop_ && round < 100000; ++round) {
    const std::string key = KeyName(mode, writer, round % keys_per_writer_);
    KeyHistory& h = *history_.at(key);
    ++sequence;
    h.attempted = sequence;
    auto result = client.Put(key, absl::StrCat(sequence));
    if (result.ok()) {
      h.acknowledged = sequence;
      ++counts_.writes_ok;
    } else if (auto q = GetQuorumFailure(result.status()); q && !q->attempted) {
      ++counts_.writes_refused;
    } else {
      ++counts_.writes_failed;
    }
  }
}

void CheckedWorkload::Read(int mode, int seed) {
  Client& client = *clients_[mode];
  std::mt19937 random(seed);
  for (int i = 0; !stop_ && i < 100000; ++i) {
    const std::string key =
        KeyName(random() % clients_.size(), random() % writers_,
                random() % keys_per_writer_);
    KeyHistory& h = *history_.at(key);
    const int64_t acknowledged_before = h.acknowledged;
    auto read = client.Get(key);
    if (!read.ok() && !absl::IsNotFound(read.status())) {
      ++counts_.reads_failed;
      continue;
    }
    ++counts_.reads_ok;
    int64_t seen = 0;
    if (read.ok() && !absl::SimpleAtoi(read->value, &seen)) seen = -1;
    if (seen < acknowledged_before) {
      ++counts_.stale_reads;
      absl::MutexLock lock(&mu_);
      problems_.push_back(absl::StrCat(key, ": read ", seen, " after ",
                                       acknowledged_before,
                                       " was acknowledged"));
    }
    if (seen < 0 || seen > h.attempted) {
      ++counts_.phantom_reads;
      absl::MutexLock lock(&mu_);
      problems_.push_back(absl::StrCat(key, ": read ", seen, ", never written"));
    }
  }
}

std::vector<std::string> CheckedWorkload::Verify(Client& client, int n,
                                                 absl::Duration timeout) {
  std::vector<std::string> lost;
  RequestOptions all;
  all.r = n;
  for (const auto& entry : history_) {
    const std::string& key = entry.first;
    const KeyHistory& h = *entry.second;
    absl::StatusOr<ReadResult> read;
    if (!WaitFor(
            [&] {
              read = client.Get(key, all);
              return read.ok() || absl::IsNotFound(read.status());
            },
            timeout)) {
      lost.push_back(absl::StrCat(key, ": unreadable at R=N: ",
                                  read.status().ToString()));
      continue;
    }
    int64_t seen = 0;
    if (read.ok() && !absl::SimpleAtoi(read->value, &seen)) seen = -1;
    if (seen < h.acknowledged || seen > h.attempted) {
      lost.push_back(absl::StrCat(key, ": reads ", seen,
                                  " at R=N; acknowledged ", h.acknowledged.load(),
                                  ", attempted ", h.attempted.load()));
    }
  }
  return lost;
}

std::vector<std::string> CheckedWorkload::problems() const {
  absl::MutexLock lock(&mu_);
  return problems_;
}

std::string CheckedWorkload::Report(int64_t lost) const {
  return absl::StrCat(
      "writes: ", counts_.writes_ok.load(), " acknowledged, ",
      counts_.writes_refused.load(), " refused (not written), ",
      counts_.writes_failed.load(), " failed (maybe written)\n",
      "quorum reads: ", counts_.reads_ok.load(), " answered, ",
      counts_.reads_failed.load(), " failed; ", counts_.stale_reads.load(),
      " older than acknowledged, ", counts_.phantom_reads.load(),
      " never written\n", "keys: ", keys(), ", lost at R=N: ", lost, "\n");
}

}  // namespace quorumkv
