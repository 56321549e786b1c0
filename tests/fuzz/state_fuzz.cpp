// libFuzzer target over what podcd reads back from its state directory: a deployment record
// (state::FromJson) and the delivery-id log (deliveries.log, read by Store::Open), plus the
// delivery keys the server derives from a header (http::DeliveryKey), and the stack controls file.
// Properties: a record that reads writes a text that reads to the same record; whatever the log
// holds, the store opens, keeps at most its bound, and rewrites the log so that it reads back
// to the same ids; every delivery key is one the store remembers and finds.
#include <stdlib.h>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <string>
#include <string_view>

#include "http/webhook.hpp"
#include "state/controls.hpp"
#include "state/deployment.hpp"
#include "state/store.hpp"

using namespace podcd;

namespace {

void Check(bool ok, const char* what, std::string_view detail = {}) {
  if (!ok) {
    std::fprintf(stderr, "property broken: %s [%.*s]\n", what, static_cast<int>(detail.size()),
                 detail.data());
    std::abort();
  }
}

// A scratch directory of this process, removed when it exits.
struct ScratchDir {
  ScratchDir() {
    // tmpfs where there is one: the store syncs what it writes, which on a disk is most of the time.
    char tmpl[] = "/dev/shm/podcd-state-fuzz-XXXXXX";
    if (!std::filesystem::is_directory("/dev/shm")) std::strcpy(tmpl, "/tmp/podcd-state-fuzz-XXXXXX");
    path = mkdtemp(tmpl);
  }
  ~ScratchDir() {
    std::error_code ec;
    std::filesystem::remove_all(path, ec);
  }
  std::filesystem::path path;
};

const std::filesystem::path& Dir() {
  static const ScratchDir dir;
  return dir.path;
}

void Records(std::string_view in) {
  auto d = state::FromJson(in);
  if (!d) return;
  const std::string once = state::ToJson(*d);
  auto again = state::FromJson(once);
  Check(again.has_value(), "a written record reads", once);
  Check(state::ToJson(*again) == once, "a record round-trips", once);
}

std::string Slurp(const std::filesystem::path& p) {
  std::ifstream f(p, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(f), {});
}

void Deliveries(std::string_view in) {
  std::filesystem::remove_all(Dir());
  std::filesystem::create_directories(Dir());
  { std::ofstream(Dir() / "deliveries.log", std::ios::binary) << in; }
  state::StoreOptions options;
  options.max_delivery_ids = 64;
  options.delivery_ttl = std::chrono::hours(24 * 365 * 1000);  // nothing expires: what was read stays
  auto store = state::Store::Open(Dir(), options);
  if (!store) return;  // an unreadable directory is an error, not a crash
  const std::size_t count = (*store)->DeliveryCount();
  Check(count <= 64, "at most max_delivery_ids are kept");
  const std::string rewritten = Slurp(Dir() / "deliveries.log");
  store->reset();
  auto reopened = state::Store::Open(Dir(), options);
  Check(reopened.has_value(), "the rewritten log opens");
  Check((*reopened)->DeliveryCount() == count, "the rewritten log holds the same ids", rewritten);
  Check(Slurp(Dir() / "deliveries.log") == rewritten, "the rewritten log is stable", rewritten);
  // Whatever a header says, its key is remembered and found.
  const std::string key = http::DeliveryKey(in.substr(0, 300));
  if (key.empty()) return;
  auto remembered = (*reopened)->RememberDelivery(key, "20260101-000000-000001");
  Check(remembered.has_value(), "every delivery key is remembered", key);
  Check((*reopened)->FindDelivery(key).has_value(), "a remembered key is found", key);
}

}  // namespace

// The stack controls file (state/controls.hpp): what decodes encodes to a text that decodes to
// the same controls.
void Controls(std::string_view text) {
  auto c = state::DecodeStackControls(text, "stack-controls.json");
  if (!c) return;
  auto again = state::DecodeStackControls(state::EncodeStackControls(*c), "again");
  Check(again.has_value() && *again == *c, "stack controls round trip", text);
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const std::string_view in(reinterpret_cast<const char*>(data) + 1, size - 1);
  if (data[0] == 0xC5) {  // one first byte, so the seeds of the other two keep their meaning
    Controls(in);
  } else if (data[0] % 2 == 0) {
    Records(in);
  } else {
    Deliveries(in);
  }
  return 0;
}
