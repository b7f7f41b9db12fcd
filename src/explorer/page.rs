//! The explorer's web page, compiled into the binary: a node's page at `/` and a launch's
//! page (see [`crate::launch`]) share the stylesheet and the drawing code.

use actix_web::{web, HttpResponse};

const NODE_HTML: &str = include_str!("assets/index.html");
const LAUNCH_HTML: &str = include_str!("assets/launch.html");
const STYLE: &str = include_str!("assets/style.css");
const TREE_JS: &str = include_str!("assets/tree.js");
const NODE_JS: &str = include_str!("assets/node.js");
const LAUNCH_JS: &str = include_str!("assets/launch.js");

fn asset(content_type: &'static str, body: &'static str) -> HttpResponse {
    HttpResponse::Ok().content_type(content_type).body(body)
}

fn shared_assets(config: &mut web::ServiceConfig) {
    config
        .route(
            "/style.css",
            web::get().to(|| async { asset("text/css; charset=utf-8", STYLE) }),
        )
        .route(
            "/tree.js",
            web::get().to(|| async { asset("text/javascript; charset=utf-8", TREE_JS) }),
        );
}

/// A node's page.
pub fn node_routes(config: &mut web::ServiceConfig) {
    shared_assets(config);
    config
        .route(
            "/",
            web::get().to(|| async { asset("text/html; charset=utf-8", NODE_HTML) }),
        )
        .route(
            "/node.js",
            web::get().to(|| async { asset("text/javascript; charset=utf-8", NODE_JS) }),
        );
}

/// A launch's page.
pub fn launch_routes(config: &mut web::ServiceConfig) {
    shared_assets(config);
    config
        .route(
            "/",
            web::get().to(|| async { asset("text/html; charset=utf-8", LAUNCH_HTML) }),
        )
        .route(
            "/launch.js",
            web::get().to(|| async { asset("text/javascript; charset=utf-8", LAUNCH_JS) }),
        );
}
