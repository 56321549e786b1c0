// Renders the dashboard's front page for N stacks (1 to 3 services each, cycling) R times and
// prints the median time and the page's size, raw and gzip-compressed (what podcd-serve sends
// when the request's Accept-Encoding allows it), with the median time of the compression.
//   dashboard_bench [STACKS=500] [RUNS=20]
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "web/gzip.hpp"
#include "web/stacks_page.hpp"

int main(int argc, char** argv) {
  using namespace podcd::web;
  const int stacks = argc > 1 ? std::atoi(argv[1]) : 500;
  const int runs = argc > 2 ? std::atoi(argv[2]) : 20;
  StacksView view;
  view.now_ms = 1'796'200'000'000;
  view.repo = {"main", "9ce009c2a1b2c3d4e5f6a7b8", view.now_ms - 30'000, false};
  for (int i = 0; i < stacks; ++i) {
    StackView s;
    s.name = "stack-" + std::to_string(i);
    s.state = i % 10 == 0 ? "changed" : "in-sync";
    s.commit = "9ce009c2a1b2c3d4e5f6a7b8";
    s.last_deployment = "20261202-104500-000001";
    s.last_outcome = i % 25 == 0 ? "failed" : "updated";
    s.last_deployment_ms = view.now_ms - 600'000 - i * 1000;
    for (int k = 0; k <= i % 3; ++k) {
      s.services.push_back({"svc" + std::to_string(k), s.name + "_svc" + std::to_string(k) + "_1", "running",
                            k == 0 ? "healthy" : "", "docker.io/library/nginx:1.25"});
    }
    view.stacks.push_back(std::move(s));
  }
  const PageContext ctx{"", "alice", true, std::string(64, 'c')};
  std::vector<double> ms;
  std::size_t size = 0;
  for (int r = 0; r < runs; ++r) {
    const auto start = std::chrono::steady_clock::now();
    const std::string html = RenderStacks(ctx, view);
    ms.push_back(std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count());
    size = html.size();
  }
  std::sort(ms.begin(), ms.end());
  const std::string html = RenderStacks(ctx, view);
  std::vector<double> gz_ms;
  std::size_t gz_size = 0;
  for (int r = 0; r < runs; ++r) {
    const auto start = std::chrono::steady_clock::now();
    const auto gz = Gzip(html);
    gz_ms.push_back(
        std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count());
    gz_size = gz ? gz->size() : 0;
  }
  std::sort(gz_ms.begin(), gz_ms.end());
  std::printf(
      "front page, %d stacks (1-3 services each): %zu bytes, render median %.2f ms (min %.2f, max %.2f, %d "
      "runs)\n",
      stacks, size, ms[ms.size() / 2], ms.front(), ms.back(), runs);
  std::printf("gzip-compressed: %zu bytes (%.1f%% of the page), gzip median %.2f ms; render + gzip %.2f ms\n",
              gz_size, 100.0 * static_cast<double>(gz_size) / static_cast<double>(size),
              gz_ms[gz_ms.size() / 2], ms[ms.size() / 2] + gz_ms[gz_ms.size() / 2]);
  return 0;
}
