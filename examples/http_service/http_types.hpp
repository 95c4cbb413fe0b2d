// The HTTP message types the demo service's parts pass between them.
#pragma once

#include <boost/beast/http.hpp>

namespace demo {

namespace http = boost::beast::http;
using Request = http::request<http::string_body>;
using Response = http::response<http::string_body>;

}  // namespace demo
