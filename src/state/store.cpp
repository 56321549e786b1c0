#include "state/store.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <ctime>

#include "util/log.hpp"
#include "util/strings.hpp"

namespace podcd::state {
namespace fs = std::filesystem;

namespace {

constexpr std::uintmax_t kMaxRecordBytes = 16u << 20;

bool ValidId(std::string_view id) {
  if (id.empty() || id.size() > 64) return false;
  for (char c : id) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || c == '-')) return false;
  }
  return true;
}

// Delivery ids come from a header: keep only a bounded, printable, space-free form.
bool ValidDeliveryId(std::string_view id) {
  if (id.empty() || id.size() > 200) return false;
  for (char c : id) {
    if (c <= 0x20 || c > 0x7e) return false;
  }
  return true;
}

Expected<void> AppendLine(int fd, const std::string& line) {
  std::size_t off = 0;
  while (off < line.size()) {
    ssize_t n = ::write(fd, line.data() + off, line.size() - off);
    if (n < 0) {
      if (errno == EINTR) continue;
      return Fail(ErrorCode::kIo, std::string("write: ") + std::strerror(errno), "deliveries.log");
    }
    off += static_cast<std::size_t>(n);
  }
  // No fsync: the line survives a crash of podcd (it is in the page cache), and losing the
  // last ids to a power cut only means a redelivery runs once more. Triggers stay fast.
  return {};
}

}  // namespace

Store::Store(fs::path dir, StoreOptions options) : dir_(std::move(dir)), options_(std::move(options)) {}

Store::~Store() {
  if (delivery_fd_ >= 0) ::close(delivery_fd_);
}

Expected<std::unique_ptr<Store>> Store::Open(const fs::path& dir, StoreOptions options) {
  std::error_code ec;
  fs::create_directories(dir / "deployments", ec);
  if (ec) return Fail(ErrorCode::kIo, "cannot create state directory: " + ec.message(), dir.string());
  std::unique_ptr<Store> s(new Store(dir, std::move(options)));
  if (auto r = s->Load(); !r) return std::unexpected(r.error());
  if (auto r = s->LoadDeliveries(); !r) return std::unexpected(r.error());
  return s;
}

Expected<void> Store::Load() {
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(dir_ / "deployments", ec)) {
    const auto& p = entry.path();
    if (p.extension() != ".json" || !entry.is_regular_file()) continue;
    auto text = ReadFile(p, kMaxRecordBytes);
    if (!text) {
      log::Warn("skipping unreadable deployment record",
                {{"file", p.string()}, {"error", text.error().What()}});
      continue;
    }
    auto d = FromJson(*text);
    if (!d || !ValidId(d->id) || d->id != p.stem().string()) {
      log::Warn("skipping malformed deployment record", {{"file", p.string()}});
      continue;
    }
    records_.emplace(d->id, std::move(*d));
  }
  if (ec) return Fail(ErrorCode::kIo, "cannot list deployments: " + ec.message(), dir_.string());
  for (auto& [id, d] : records_) {
    if (IsFinished(d.state) || id == options_.keep_running) continue;
    d.state = DeploymentState::kFailed;
    d.reason = "interrupted";
    d.finished_at_ms = NowMs();
    AppendLog(d, "podcd stopped before this deployment finished; marked failed (interrupted)");
    ++interrupted_on_open_;
    if (auto r = WriteFileAtomic(dir_ / "deployments" / (id + ".json"), ToJson(d)); !r) {
      return std::unexpected(r.error());
    }
  }
  if (!records_.empty()) {
    // Continue the sequence after the newest id so ids stay ordered across restarts.
    const std::string& last = records_.rbegin()->first;
    auto dash = last.rfind('-');
    if (dash != std::string::npos) {
      if (auto n = ParseInt(std::string_view(last).substr(dash + 1)); n && *n >= 0) {
        sequence_ = static_cast<std::uint64_t>(*n);
      }
    }
  }
  PruneLocked();
  return {};
}

Expected<void> Store::LoadDeliveries() {
  auto path = dir_ / "deliveries.log";
  if (fs::exists(path)) {
    auto text = ReadFile(path, 64u << 20);
    if (!text) return std::unexpected(text.error());
    std::string_view rest = *text;
    while (!rest.empty()) {
      auto nl = rest.find('\n');
      if (nl == std::string_view::npos) break;  // a torn last line from a crash is ignored
      std::string_view line = rest.substr(0, nl);
      rest.remove_prefix(nl + 1);
      auto a = line.find(' ');
      auto b = line.find(' ', a == std::string_view::npos ? a : a + 1);
      if (a == std::string_view::npos || b == std::string_view::npos) continue;
      auto at = ParseInt(line.substr(0, a));
      std::string id(line.substr(a + 1, b - a - 1));
      std::string dep(line.substr(b + 1));
      if (!at || !ValidDeliveryId(id) || !ValidId(dep)) continue;
      ++delivery_lines_;
      if (deliveries_.emplace(id, dep).second) delivery_order_.push_back({*at, id, dep});
    }
  }
  ExpireDeliveriesLocked(NowMs());
  return CompactDeliveriesLocked();
}

Expected<void> Store::CompactDeliveriesLocked() {
  auto path = dir_ / "deliveries.log";
  std::string text;
  for (const auto& d : delivery_order_) {
    text += std::to_string(d.at_ms) + " " + d.id + " " + d.deployment + "\n";
  }
  if (auto r = WriteFileAtomic(path, text); !r) return r;
  if (delivery_fd_ >= 0) ::close(delivery_fd_);
  delivery_fd_ = ::open(path.c_str(), O_WRONLY | O_APPEND | O_CLOEXEC);
  if (delivery_fd_ < 0)
    return Fail(ErrorCode::kIo, std::string("open: ") + std::strerror(errno), path.string());
  delivery_lines_ = delivery_order_.size();
  return {};
}

void Store::ExpireDeliveriesLocked(std::int64_t now_ms) {
  auto ttl = options_.delivery_ttl.count();
  while (!delivery_order_.empty() && (delivery_order_.size() > options_.max_delivery_ids ||
                                      now_ms - delivery_order_.front().at_ms > ttl)) {
    deliveries_.erase(delivery_order_.front().id);
    delivery_order_.pop_front();
  }
}

std::string Store::NewId() {
  std::time_t t = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char stamp[32];
  std::strftime(stamp, sizeof stamp, "%Y%m%d-%H%M%S", &tm);
  std::lock_guard lock(mutex_);
  char seq[16];
  std::snprintf(seq, sizeof seq, "%06llu", static_cast<unsigned long long>(++sequence_ % 1000000));
  return std::string(stamp) + "-" + seq;
}

namespace {
// Log lines are masked as they are appended (AppendLog); reasons come from error messages.
Deployment Masked(const Deployment& d) {
  Deployment m = d;
  log::MaskSecrets(m.reason);
  for (auto& s : m.stacks) log::MaskSecrets(s.reason);
  return m;
}
}  // namespace

Expected<void> Store::Save(const Deployment& unmasked) {
  if (!ValidId(unmasked.id)) return Fail(ErrorCode::kInvalidArgument, "invalid deployment id", unmasked.id);
  const Deployment d = Masked(unmasked);
  std::string json = ToJson(d);
  std::lock_guard lock(mutex_);
  records_[d.id] = d;
  auto r = WriteFileAtomic(dir_ / "deployments" / (d.id + ".json"), json);
  PruneLocked();
  return r;
}

void Store::UpdateInMemory(const Deployment& d) {
  Deployment m = Masked(d);
  std::lock_guard lock(mutex_);
  records_[d.id] = std::move(m);
}

void Store::PruneLocked() {
  std::size_t finished = 0;
  for (const auto& [id, d] : records_) finished += IsFinished(d.state) ? 1u : 0u;
  for (auto it = records_.begin(); finished > options_.max_history && it != records_.end();) {
    if (!IsFinished(it->second.state)) {
      ++it;
      continue;
    }
    std::error_code ec;
    fs::remove(dir_ / "deployments" / (it->first + ".json"), ec);
    it = records_.erase(it);
    --finished;
  }
}

std::optional<Deployment> Store::Get(const std::string& id) const {
  std::lock_guard lock(mutex_);
  auto it = records_.find(id);
  if (it == records_.end()) return std::nullopt;
  return it->second;
}

std::vector<Deployment> Store::List(std::size_t limit) const {
  std::lock_guard lock(mutex_);
  std::vector<Deployment> out;
  for (auto it = records_.rbegin(); it != records_.rend() && out.size() < limit; ++it)
    out.push_back(it->second);
  return out;
}

std::optional<std::string> Store::FindDelivery(const std::string& delivery_id) const {
  std::lock_guard lock(mutex_);
  auto it = deliveries_.find(delivery_id);
  if (it == deliveries_.end()) return std::nullopt;
  return it->second;
}

Expected<void> Store::RememberDelivery(const std::string& delivery_id, const std::string& deployment_id) {
  if (!ValidDeliveryId(delivery_id)) {
    return Fail(ErrorCode::kInvalidArgument, "delivery id must be 1-200 printable characters without spaces");
  }
  std::lock_guard lock(mutex_);
  auto now = NowMs();
  if (!deliveries_.emplace(delivery_id, deployment_id).second) return {};
  delivery_order_.push_back({now, delivery_id, deployment_id});
  ExpireDeliveriesLocked(now);
  if (delivery_lines_ + 1 > 2 * options_.max_delivery_ids) return CompactDeliveriesLocked();
  ++delivery_lines_;
  return AppendLine(delivery_fd_, std::to_string(now) + " " + delivery_id + " " + deployment_id + "\n");
}

std::size_t Store::DeliveryCount() const {
  std::lock_guard lock(mutex_);
  return deliveries_.size();
}

}  // namespace podcd::state
