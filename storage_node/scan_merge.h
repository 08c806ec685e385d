// What a scan page answers from the pages R replicas gave for the same
// partition and start: a pure function, tested over many shapes
// (tests/scan_merge_test.cc).
//
// Each replica returns at most `limit` rows after the start. A replica
// that stopped early (truncated) only vouches for keys up to its last row,
// so the merged page ends at the smallest such last key: every key up to
// there was seen by every replica asked, each register merged to its
// newest (row_registers.h). Memory is R pages, whatever the data size.
#ifndef QUORUMKV_STORAGE_NODE_SCAN_MERGE_H_
#define QUORUMKV_STORAGE_NODE_SCAN_MERGE_H_

#include <cstdint>
#include <vector>

#include "proto/kv.pb.h"
#include "proto/replica.pb.h"

namespace quorumkv {

// The live rows of the merged page at `now_ms` (at most `limit`, in key
// order), where the next page starts, and whether the partition is done.
ScanResponse MergeScanPages(const std::vector<RangeResponse>& pages,
                            uint32_t limit, int64_t now_ms);

}  // namespace quorumkv

#endif  // QUORUMKV_STORAGE_NODE_SCAN_MERGE_H_
