#include "compose/loader_internal.hpp"

namespace podcd::compose {

void Loader::BuildDef(const Node& v, const std::string& p, core::Service& s) {
  core::Build b;
  if (v.IsScalar()) {
    SetStr(v, p, b.context);
  } else if (v.IsMap()) {
    for (const auto& e : v.entries) {
      std::string q = p + "." + e.key;
      if (IsExtension(e.key)) continue;
      if (e.key == "context")
        SetStr(*e.value, q, b.context);
      else if (e.key == "dockerfile")
        SetStr(*e.value, q, b.dockerfile);
      else if (e.key == "args")
        b.args = StrMap(*e.value, q);
      else if (e.key == "target")
        SetStr(*e.value, q, b.target);
      else if (e.key == "labels")
        b.labels = StrMap(*e.value, q);
      else
        Unsupported(e, p);
    }
  } else {
    return TypeErr(v, p, "a string or a mapping");
  }
  s.build = b;
}

void Loader::BuildContext(const Node& v, const std::string& p, core::Service& s) {
  core::Build& b = *s.build;
  // The context is a directory of the repository; its digest (every file in it) joins the
  // service's fingerprint, so a changed file rebuilds the image and recreates the service.
  auto r = ResolvePath(v, p + (v.IsMap() ? ".context" : ""), b.context.empty() ? "." : b.context,
                       Scope::kRepoOrSecrets);
  if (!r) return;
  std::error_code ec;
  if (r->key.starts_with("<secrets>/") || !fs::is_directory(r->abs, ec)) {
    return Err(v, p, "the build context " + Quoted(b.context) + " is not a directory of the repository");
  }
  if (b.dockerfile.empty()) {
    b.dockerfile = fs::exists(r->abs / "Containerfile", ec) ? "Containerfile" : "Dockerfile";
  }
  const fs::path file = (r->abs / b.dockerfile).lexically_normal();
  if (!Within(r->abs, file) || !fs::is_regular_file(file, ec)) {
    return Err(v, p, "no " + b.dockerfile + " in the build context " + r->key);
  }
  // podcd reads the Containerfile (for its base images) and Podman's builder does too, both as
  // root: one that resolves out of the context (a symlink to /etc/shadow) is refused before
  // anything reads it, and only its path is named.
  const fs::path real = fs::weakly_canonical(file, ec);
  if (ec || !Within(r->abs, real) || !fs::is_regular_file(real, ec)) {
    return Err(v, p,
               b.dockerfile + " in the build context " + r->key +
                   " is not a regular file inside the context (a symlink out of it is refused)");
  }
  auto key = Reference(v, p, *r, core::FileKind::kBuildContext, b.dockerfile);
  if (!key) return;
  b.context_key = *key;
  b.context_dir = r->abs.string();
  s.files.push_back(*key);
}

}  // namespace podcd::compose
