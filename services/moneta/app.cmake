# moneta_app: everything but main (linked by the binary and by in-process tests).
add_library(moneta_app STATIC
  src/app.cpp
  src/consul_registration.cpp
  src/dependency_guards.cpp
  src/loop_lag.cpp
  src/settings.cpp
  src/telemetry.cpp
  src/telemetry_resilience.cpp
  src/tracing.cpp
  src/handlers/admin_handlers.cpp
  src/handlers/load_shedding.cpp
  src/handlers/auth.cpp
  src/handlers/health_handlers.cpp
  src/handlers/http_util.cpp
  src/handlers/playback_handlers.cpp
  src/handlers/progress_handlers.cpp
  src/handlers/rate_limit.cpp
  src/handlers/server_errors.cpp
  src/usecases/progress_calls.cpp
  src/usecases/session_calls.cpp
  src/usecases/start_playback.cpp
  src/usecases/store_adapters.cpp
  src/delivery/playback_delivery.cpp
  src/progress/batch_split.cpp
  src/progress/flusher.cpp
  src/progress/share_out.cpp
  src/upstream/internal_api_client.cpp
  src/upstream/internal_api_guard.cpp
  src/upstream/resilient_internal_api.cpp)
target_link_libraries(moneta_app PUBLIC moneta_store moneta::http_server moneta::http_client
  moneta::jwt moneta::config moneta::log moneta::metrics moneta::cdn moneta::drm
  moneta::resilience moneta::consul moneta::trace)
target_compile_definitions(moneta_app PRIVATE MONETA_VERSION="${PROJECT_VERSION}")
moneta_warnings(moneta_app)

add_executable(moneta main.cpp)
target_link_libraries(moneta PRIVATE moneta_app CLI11::CLI11)
moneta_warnings(moneta)
