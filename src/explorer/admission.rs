//! The explorer's door, in front of every handler: each request passes the
//! [`RequestGate`] (Host names this explorer; writes come from its own origin as JSON),
//! then the node's ban list (a host banned for misbehaviour on any surface, P2P, client
//! or HTTP, is refused on all), then its client's budget ([`super::client_budget`]).
//! Each refusal is a short JSON answer with the reason, and nothing is queued.
//! The bytes of each answer are counted against its client's budget.

use super::client_budget::Hold;
use super::client_door::{self, ClientDoor, Served};
use super::limits::ExplorerLimits;
use super::request_gate::{Refusal, RequestGate, RequestHeaders};
use crate::node::peer_manager::{IsBanned, PeerManagerActor};
use actix::Addr;
use actix_web::body::{BodySize, BoxBody, EitherBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::{header, Method, StatusCode};
use actix_web::middleware::Next;
use actix_web::{web, HttpRequest, HttpResponse};
use serde_json::json;
use std::net::{Ipv4Addr, SocketAddr};

/// What the door consults; in every explorer's app data.
#[derive(Clone)]
pub struct Door {
    pub gate: RequestGate,
    pub limits: ExplorerLimits,
    pub clients: Addr<ClientDoor>,
    /// The node's ban list; `None` for a launch's page, which has no peers of its own.
    pub bans: Option<Addr<PeerManagerActor>>,
}

/// The address a request came from (the socket's, never a header a client could set).
pub fn client_addr(request: &HttpRequest) -> SocketAddr {
    request
        .peer_addr()
        .unwrap_or_else(|| SocketAddr::from((Ipv4Addr::UNSPECIFIED, 0)))
}

/// The answer to a refused request; the connection is closed after it, so a refused
/// client holds no socket.
pub fn refused(refusal: &Refusal) -> HttpResponse {
    let status = StatusCode::from_u16(refusal.status).unwrap_or(StatusCode::FORBIDDEN);
    HttpResponse::build(status)
        .force_close()
        .json(json!({ "error": refusal.reason }))
}

/// The middleware (`actix_web::middleware::from_fn(admission)`).
pub async fn admission<B: MessageBody + 'static>(
    request: ServiceRequest,
    next: Next<B>,
) -> Result<ServiceResponse<EitherBody<B, BoxBody>>, actix_web::Error> {
    let Some(door) = request.app_data::<web::Data<Door>>().cloned() else {
        return Ok(next.call(request).await?.map_into_left_body());
    };
    let refuse = |request: ServiceRequest, refusal: &Refusal| {
        Ok(request
            .into_response(refused(refusal))
            .map_into_right_body())
    };
    let header = |name: header::HeaderName| {
        request
            .headers()
            .get(name)
            .map(|value| value.to_str().unwrap_or("<not text>"))
    };
    let write = ![Method::GET, Method::HEAD, Method::OPTIONS].contains(request.method());
    let headers = RequestHeaders {
        write,
        host: header(header::HOST),
        origin: header(header::ORIGIN),
        sec_fetch_site: header(header::HeaderName::from_static("sec-fetch-site")),
        content_type: header(header::CONTENT_TYPE),
    };
    if let Err(refusal) = door.gate.check(&headers) {
        return refuse(request, &refusal);
    }
    let remote = client_addr(request.request());
    if let Some(bans) = &door.bans {
        if bans.send(IsBanned(remote)).await.unwrap_or(false) {
            let refusal = Refusal {
                status: 403,
                reason: format!(
                    "{} is banned for misbehaviour (on this explorer or the node's network)",
                    remote.ip()
                ),
            };
            return refuse(request, &refusal);
        }
    }
    let permit = match client_door::admit(&door.clients, remote.ip(), Hold::Request).await {
        Ok(permit) => permit,
        Err(refusal) => return refuse(request, &refusal),
    };
    let response = next.call(request).await?;
    if let BodySize::Sized(bytes) = response.response().body().size() {
        door.clients.do_send(Served {
            ip: remote.ip(),
            bytes,
        });
    }
    drop(permit);
    Ok(response.map_into_left_body())
}
