// The metrics of one daemon (docs/operations.md lists them): a
// prometheus-cpp registry for what is counted as it happens (requests,
// latencies), and scrape-time sources for figures another component keeps
// already (hints, RocksDB sizes, the directory epoch), read when /metrics is
// fetched so that no figure is kept twice.
//
// Thread safety: Add*() before the HTTP server starts; afterwards Render()
// may run on several threads at once, and the sources must be thread-safe.
#ifndef QUORUMKV_COMMON_METRICS_H_
#define QUORUMKV_COMMON_METRICS_H_

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "prometheus/metric_type.h"
#include "prometheus/registry.h"

namespace quorumkv {

// One sample of a scrape-time family: its labels and value.
struct MetricSample {
  std::map<std::string, std::string> labels;
  double value = 0;
};

class Metrics {
 public:
  Metrics();

  // Where counters and histograms updated as things happen are registered.
  prometheus::Registry& registry() { return *registry_; }

  // A family whose samples `read` returns at each scrape; `type` is
  // prometheus::MetricType::Counter (a total that only rises) or ::Gauge.
  void AddSource(std::string name, std::string help,
                 prometheus::MetricType type,
                 std::function<std::vector<MetricSample>()> read);
  // One unlabelled sample.
  void AddValue(std::string name, std::string help,
                prometheus::MetricType type, std::function<double()> read);

  // Every family in the Prometheus text format (version 0.0.4).
  std::string Render() const;

 private:
  struct Source {
    std::string name;
    std::string help;
    prometheus::MetricType type;
    std::function<std::vector<MetricSample>()> read;
  };
  std::shared_ptr<prometheus::Registry> registry_;
  std::vector<Source> sources_;
};

}  // namespace quorumkv

#endif  // QUORUMKV_COMMON_METRICS_H_
