#include "common/server_base.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "common/address.h"
#include "common/grpc_util.h"
#include "common/logging.h"
#include "common/status_macros.h"
#include "grpcpp/health_check_service_interface.h"

namespace quorumkv {

ServerBase::ServerBase(std::string name) : name_(std::move(name)) {}

ServerBase::~ServerBase() {
  if (http_ != nullptr) http_->Stop();
  if (server_ != nullptr) server_->Shutdown();
}

void ServerBase::SetSecurity(const DaemonSecurity* security) {
  security_ = security;
}

void ServerBase::SetHealthCheck(std::function<absl::Status()> check) {
  health_check_ = std::move(check);
}

absl::Status ServerBase::Serve(const std::string& listen,
                               const std::vector<grpc::Service*>& services,
                               const std::string& http_listen,
                               std::vector<HttpRoute> pages) {
  const TlsConfig* tls = security_ == nullptr ? nullptr : security_->tls.get();
  const TokenSet* tokens =
      security_ == nullptr ? nullptr : security_->tokens.get();
  for (const std::string& address : {listen, http_listen}) {
    if (!address.empty() && tls == nullptr && !IsLoopbackAddress(address)) {
      QKV_LOG(WARNING) << "WARNING: " << name_ << " listens on " << address
                       << " without TLS: anyone who reaches it can read and "
                          "write the cluster's data and join it; give it "
                          "--tls_dir (docs/operations.md, \"Security\")";
    }
  }
  ASSIGN_OR_RETURN(server_, StartServer(listen, services, &address_, tls));
  port_ = std::stoi(address_.substr(address_.rfind(':') + 1));
  if (!http_listen.empty()) {
    pages.push_back({"/metrics", [this] {
                       return HttpResponse{
                           200, "text/plain; version=0.0.4; charset=utf-8",
                           metrics_.Render()};
                     }});
    pages.push_back({"/healthz", [this] { return Health(); }, /*open=*/true});
    absl::StatusOr<std::unique_ptr<HttpServer>> http = HttpServer::Start(
        http_listen, std::move(pages), HttpSecurity{tls, tokens});
    if (!http.ok()) {
      server_->Shutdown();
      server_.reset();
      return absl::Status(http.status().code(),
                          absl::StrCat("--http_listen: ", http.status().message()));
    }
    http_ = *std::move(http);
  }
  serving_ = true;
  return absl::OkStatus();
}

std::string ServerBase::http_address() const {
  return http_ == nullptr ? "" : http_->address();
}

int ServerBase::http_port() const {
  return http_ == nullptr ? 0 : http_->port();
}

HttpResponse ServerBase::Health() const {
  if (!serving_) return {503, "text/plain; charset=utf-8", "stopping\n"};
  if (health_check_) {
    const absl::Status status = health_check_();
    if (!status.ok()) {
      return {503, "text/plain; charset=utf-8",
              absl::StrCat(status.message(), "\n")};
    }
  }
  return {200, "text/plain; charset=utf-8", "ok\n"};
}

void ServerBase::Stop(const std::function<void()>& before,
                      const std::function<void()>& after) {
  {
    absl::MutexLock lock(&mu_);
    if (stopping_) {
      mu_.Await(absl::Condition(&stopped_));
      return;
    }
    stopping_ = true;
  }
  serving_ = false;
  if (server_ != nullptr) server_->GetHealthCheckService()->SetServingStatus(false);
  before();
  if (server_ != nullptr) {
    server_->Shutdown(absl::ToChronoTime(absl::Now() + absl::Seconds(1)));
  }
  if (http_ != nullptr) http_->Stop();
  after();
  absl::MutexLock lock(&mu_);
  stopped_ = true;
}

void ServerBase::Fail(absl::Status status) {
  absl::MutexLock lock(&mu_);
  if (failure_.ok()) failure_ = std::move(status);
}

void ServerBase::Finish() {
  absl::MutexLock lock(&mu_);
  finished_ = true;
}

absl::Status ServerBase::Wait() {
  absl::MutexLock lock(&mu_);
  auto done = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    return stopped_ || finished_ || !failure_.ok();
  };
  mu_.Await(absl::Condition(&done));
  return failure_;
}

}  // namespace quorumkv
