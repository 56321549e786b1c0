#include "reconcile/field_key.hpp"

#include <sys/stat.h>

#include <catch2/catch.hpp>
#include <cstdint>
#include <fstream>
#include <set>

#include "core/plan.hpp"
#include "support/temp_dir.hpp"

using namespace podcd;

namespace {

// The label's hash before keys: 48-bit FNV-1a of the value, 12 hex digits.
std::string OldFnv(const std::string& value) {
  std::uint64_t h = 14695981039346656037ull;
  for (char c : value) {
    h ^= static_cast<unsigned char>(c);
    h *= 1099511628211ull;
  }
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out(12, '0');
  for (int i = 11; i >= 0; --i, h >>= 4) out[static_cast<size_t>(i)] = kHex[h & 0xf];
  return out;
}

}  // namespace

TEST_CASE("the field hash key is made once, 0600, and read again") {
  podcd::test::TempDir dir;
  auto first = reconcile::LoadOrCreateFieldKey(dir.path());
  REQUIRE(first);
  CHECK(first->size() == 32);
  struct stat st {};
  REQUIRE(::stat((dir.path() / reconcile::kFieldKeyFile).c_str(), &st) == 0);
  CHECK((st.st_mode & 0777) == 0600);
  auto again = reconcile::LoadOrCreateFieldKey(dir.path());
  REQUIRE(again);
  CHECK(*again == *first);
  // No state directory: no key, and no directory made for one.
  CHECK_FALSE(reconcile::LoadOrCreateFieldKey(dir.path() / "missing"));
  CHECK_FALSE(std::filesystem::exists(dir.path() / "missing"));
  // A damaged key is an error, not a silent new key (which would change every hash).
  std::ofstream(dir.path() / reconcile::kFieldKeyFile) << "not hex\n";
  CHECK_FALSE(reconcile::LoadOrCreateFieldKey(dir.path()));
}

TEST_CASE("field hashes are keyed: not the old FNV of the value, different under another key") {
  const std::map<std::string, std::string> fields = {{"environment.TOKEN", "hunter2-canary"},
                                                     {"image", "busybox"}};
  const HmacSha256Key a(std::string(32, 'a')), b(std::string(32, 'b'));
  auto ha = reconcile::FieldHashes(a, reconcile::FieldKeyId(a), fields);
  auto hb = reconcile::FieldHashes(b, reconcile::FieldKeyId(b), fields);
  CHECK(ha.at("environment.TOKEN").size() == 12);
  CHECK(ha.at("environment.TOKEN") != OldFnv("hunter2-canary"));
  CHECK(ha.at("environment.TOKEN") != hb.at("environment.TOKEN"));
  CHECK(ha.at(std::string(core::kFieldKeyId)) != hb.at(std::string(core::kFieldKeyId)));
  CHECK(reconcile::FieldHashes(a, reconcile::FieldKeyId(a), fields) == ha);  // stable across runs
  // The same value in two fields hashes differently: equal secrets are not told apart by label.
  auto twins = reconcile::FieldHashes(a, "id", {{"environment.A", "same"}, {"environment.B", "same"}});
  CHECK(twins.at("environment.A") != twins.at("environment.B"));
}
