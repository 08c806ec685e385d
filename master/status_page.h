// The master's status page (HTTP `/`) and its data (`/api/status`, JSON):
// racks, their nodes with state and load, partitions per node, moves in
// flight, under-replicated partitions. The page is static and fetches the
// JSON every two seconds, so it refreshes by itself and works from any
// browser that reaches --http_listen.
#ifndef QUORUMKV_MASTER_STATUS_PAGE_H_
#define QUORUMKV_MASTER_STATUS_PAGE_H_

#include <functional>
#include <vector>

#include "common/http_server.h"
#include "master/cluster_status.h"

namespace quorumkv {

// The routes "/" and "/api/status". `status` must outlive the server;
// `masters` says which masters there are and their roles (the page's
// "masters" line).
std::vector<HttpRoute> StatusPageRoutes(
    const ClusterStatusReporter* status,
    std::function<std::vector<MastersResponse>()> masters);

}  // namespace quorumkv

#endif  // QUORUMKV_MASTER_STATUS_PAGE_H_
