// edge_errors: prints deploy/nginx/edge_errors.conf (nginx's JSON error answers) from moneta's
// error table. Regenerate after changing api_error.cpp:
//   build/release/tools/edge_errors/edge_errors > deploy/nginx/edge_errors.conf
// The unit test edge_errors_test fails while the committed file differs.
#include <cstdio>
#include <string>

#include "domain/edge_errors.hpp"

int main() {
    const std::string text = moneta::domain::nginx_edge_errors_conf();
    return std::fwrite(text.data(), 1, text.size(), stdout) == text.size() ? 0 : 1;
}
