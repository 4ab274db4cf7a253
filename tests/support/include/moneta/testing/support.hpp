/// @file moneta/testing/support.hpp
/// @brief Umbrella header for the integration-test helpers (moneta::test_support).
#pragma once

#include "moneta/testing/http.hpp"
#include "moneta/testing/net.hpp"
#include "moneta/testing/paths.hpp"
#include "moneta/testing/process.hpp"
#include "moneta/testing/redis_server.hpp"
#include "moneta/testing/temp_dir.hpp"
#include "moneta/testing/wait.hpp"
