// The images a Containerfile (Dockerfile) builds from: its FROM lines and the images its
// `COPY --from=` reads, as Podman's builder would resolve them. redeploy-and-update pulls
// them to learn whether a built service's base moved (reconcile/apply.cpp).
#pragma once

#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace podcd::reconcile {

// Image references, in order, each once: `FROM` images (not `scratch`, not an earlier stage
// named with `AS`) and `COPY --from=` images (not a stage name or index). `$NAME`, `${NAME}`
// and `${NAME:-default}` are replaced by the ARGs declared before the first FROM, with
// `build_args` overriding their defaults. Line continuations and comments as Docker reads
// them; instructions in any case; the bodies of heredocs (`RUN <<EOF` ... `EOF`) are skipped.
std::vector<std::string> BaseImages(std::string_view containerfile,
                                    const std::map<std::string, std::string>& build_args);

}  // namespace podcd::reconcile
