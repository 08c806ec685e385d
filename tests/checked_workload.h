// Writers and readers that check what they see, for the fault tests: each
// writer writes increasing sequence numbers to keys of its own (so it knows
// each key's highest acknowledged and highest attempted write), readers
// make quorum reads and flag any answer older than a write acknowledged
// before the read began, or one never written. Afterwards every
// acknowledged write must read back at R=N. Clients are given per query
// mode, so both modes run at once. Thread-safe.
#ifndef QUORUMKV_TESTS_CHECKED_WORKLOAD_H_
#define QUORUMKV_TESTS_CHECKED_WORKLOAD_H_

#include <atomic>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "quorumkv/client.h"

namespace quorumkv {

class CheckedWorkload {
 public:
  struct Counts {
    std::atomic<int64_t> writes_ok{0}, writes_failed{0}, writes_refused{0};
    std::atomic<int64_t> reads_ok{0}, reads_failed{0};
    std::atomic<int64_t> stale_reads{0}, phantom_reads{0};
  };

  // `clients` (one per query mode, outliving the workload) are used by
  // `writers` writers and `readers` readers each, over `keys_per_writer`
  // keys per writer.
  CheckedWorkload(std::vector<Client*> clients, int writers, int readers,
                  int keys_per_writer);
  ~CheckedWorkload();  // Stop()s.

  void Start();
  void Stop();

  // Reads every key at R=`n` through `client` (retrying errors for up to
  // `timeout` each) and returns what does not hold: a key that reads older
  // than its last acknowledged write, or newer than any attempted.
  std::vector<std::string> Verify(Client& client, int n,
                                  absl::Duration timeout = absl::Seconds(20));
  // Stale and phantom reads seen, in words.
  std::vector<std::string> problems() const;
  const Counts& counts() const { return counts_; }
  int keys() const { return static_cast<int>(history_.size()); }
  // The counts, as fault tests print them (docs/failures.md quotes one).
  std::string Report(int64_t lost) const;

 private:
  struct KeyHistory {
    std::atomic<int64_t> acknowledged{0};  // highest acknowledged sequence
    std::atomic<int64_t> attempted{0};     // highest sequence sent
  };
  static std::string KeyName(int mode, int writer, int k);
  void Write(int mode, int writer);
  void Read(int mode, int seed);

  const std::vector<Client*> clients_;
  const int writers_, readers_, keys_per_writer_;
  std::map<std::string, std::unique_ptr<KeyHistory>> history_;  // fixed
  Counts counts_;
  std::atomic<bool> stop_{false};
  std::vector<std::thread> threads_;
  mutable absl::Mutex mu_;
  std::vector<std::string> problems_ ABSL_GUARDED_BY(mu_);
};

}  // namespace quorumkv

#endif  // QUORUMKV_TESTS_CHECKED_WORKLOAD_H_
