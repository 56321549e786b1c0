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
  if (auto data = data_.Lock(); data->delivery_fd >= 0) ::close(data->delivery_fd);
}

Expected<std::unique_ptr<Store>> Store::Open(const fs::path& dir, StoreOptions options) {
  std::error_code ec;
  fs::create_directories(dir / "deployments", ec);
  if (ec) return Fail(ErrorCode::kIo, "cannot create state directory: " + ec.message(), dir.string());
  std::unique_ptr<Store> s(new Store(dir, std::move(options)));
  auto data = s->data_.Lock();
  if (auto r = s->Load(*data); !r) return std::unexpected(r.error());
  if (auto r = s->LoadDeliveries(*data); !r) return std::unexpected(r.error());
  return s;
}

Expected<void> Store::Load(Data& data) {
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
    data.records.emplace(d->id, std::move(*d));
  }
  if (ec) return Fail(ErrorCode::kIo, "cannot list deployments: " + ec.message(), dir_.string());
  for (auto& [id, d] : data.records) {
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
  if (!data.records.empty()) {
    // Continue the sequence after the newest id so ids stay ordered across restarts.
    const std::string& last = data.records.rbegin()->first;
    auto dash = last.rfind('-');
    if (dash != std::string::npos) {
      if (auto n = ParseInt(std::string_view(last).substr(dash + 1)); n && *n >= 0) {
        data.sequence = static_cast<std::uint64_t>(*n);
      }
    }
  }
  Prune(data);
  return {};
}

Expected<void> Store::LoadDeliveries(Data& data) {
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
      ++data.delivery_lines;
      if (data.deliveries.emplace(id, dep).second) data.delivery_order.push_back({*at, id, dep});
    }
  }
  ExpireDeliveries(data, NowMs());
  return CompactDeliveries(data);
}

Expected<void> Store::CompactDeliveries(Data& data) {
  auto path = dir_ / "deliveries.log";
  std::string text;
  for (const auto& d : data.delivery_order) {
    text += std::to_string(d.at_ms) + " " + d.id + " " + d.deployment + "\n";
  }
  if (auto r = WriteFileAtomic(path, text); !r) return r;
  if (data.delivery_fd >= 0) ::close(data.delivery_fd);
  data.delivery_fd = ::open(path.c_str(), O_WRONLY | O_APPEND | O_CLOEXEC);
  if (data.delivery_fd < 0)
    return Fail(ErrorCode::kIo, std::string("open: ") + std::strerror(errno), path.string());
  data.delivery_lines = data.delivery_order.size();
  return {};
}

void Store::ExpireDeliveries(Data& data, std::int64_t now_ms) {
  auto ttl = options_.delivery_ttl.count();
  auto& order = data.delivery_order;
  while (!order.empty() && (order.size() > options_.max_delivery_ids || now_ms - order.front().at_ms > ttl)) {
    data.deliveries.erase(order.front().id);
    order.pop_front();
  }
}

std::string Store::NewId() {
  std::time_t t = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char stamp[32];
  std::strftime(stamp, sizeof stamp, "%Y%m%d-%H%M%S", &tm);
  const auto sequence = ++data_.Lock()->sequence;
  char seq[16];
  std::snprintf(seq, sizeof seq, "%06llu", static_cast<unsigned long long>(sequence % 1000000));
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
  auto data = data_.Lock();
  data->records[d.id] = d;
  auto r = WriteFileAtomic(dir_ / "deployments" / (d.id + ".json"), json);
  Prune(*data);
  return r;
}

void Store::UpdateInMemory(const Deployment& d) {
  Deployment m = Masked(d);
  data_.Lock()->records[d.id] = std::move(m);
}

void Store::Prune(Data& data) {
  auto& records = data.records;
  std::size_t finished = 0;
  for (const auto& [id, d] : records) finished += IsFinished(d.state) ? 1u : 0u;
  for (auto it = records.begin(); finished > options_.max_history && it != records.end();) {
    if (!IsFinished(it->second.state)) {
      ++it;
      continue;
    }
    std::error_code ec;
    fs::remove(dir_ / "deployments" / (it->first + ".json"), ec);
    it = records.erase(it);
    --finished;
  }
}

std::optional<Deployment> Store::Get(const std::string& id) const {
  auto data = data_.Lock();
  auto it = data->records.find(id);
  if (it == data->records.end()) return std::nullopt;
  return it->second;
}

std::vector<Deployment> Store::List(std::size_t limit) const {
  auto data = data_.Lock();
  std::vector<Deployment> out;
  for (auto it = data->records.rbegin(); it != data->records.rend() && out.size() < limit; ++it)
    out.push_back(it->second);
  return out;
}

std::optional<std::string> Store::FindDelivery(const std::string& delivery_id) const {
  auto data = data_.Lock();
  auto it = data->deliveries.find(delivery_id);
  if (it == data->deliveries.end()) return std::nullopt;
  return it->second;
}

Expected<void> Store::RememberDelivery(const std::string& delivery_id, const std::string& deployment_id) {
  if (!ValidDeliveryId(delivery_id)) {
    return Fail(ErrorCode::kInvalidArgument, "delivery id must be 1-200 printable characters without spaces");
  }
  auto data = data_.Lock();
  auto now = NowMs();
  if (!data->deliveries.emplace(delivery_id, deployment_id).second) return {};
  data->delivery_order.push_back({now, delivery_id, deployment_id});
  ExpireDeliveries(*data, now);
  if (data->delivery_lines + 1 > 2 * options_.max_delivery_ids) return CompactDeliveries(*data);
  ++data->delivery_lines;
  return AppendLine(data->delivery_fd, std::to_string(now) + " " + delivery_id + " " + deployment_id + "\n");
}

std::size_t Store::DeliveryCount() const { return data_.Lock()->deliveries.size(); }

}  // namespace podcd::state
