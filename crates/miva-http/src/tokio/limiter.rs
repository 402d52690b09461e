//! A client-side limit on request rate and requests in flight for the async
//! clients.
