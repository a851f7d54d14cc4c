//! The calling side of SIP, for our own callers (the load caller `ivr load` and the test
//! caller of the SIP tests): an rsipstack user agent on UDP that places calls and answers
//! what the far end sends inside them.

use std::net::SocketAddr;
use std::sync::Arc;

use rsipstack::EndpointBuilder;
use rsipstack::dialog::dialog::{
    DialogState, DialogStateReceiver, DialogStateSender, TerminatedReason,
};
use rsipstack::dialog::dialog_layer::DialogLayer;
use rsipstack::sip::StatusCode;
use rsipstack::transport::TransportLayer;
use rsipstack::transport::udp::UdpConnection;
use tokio_util::sync::{CancellationToken, DropGuard};

/// A running user agent; its endpoint stops when this is dropped.
pub struct UserAgent {
    /// Places calls (`do_invite`) and finds their dialogs.
    pub dialogs: Arc<DialogLayer>,
    /// Passed to `do_invite`: the calls' states arrive on the receiver [`UserAgent::start`]
    /// returned, to go through [`settle`].
    pub state_tx: DialogStateSender,
    /// The address its SIP socket is bound to.
    pub addr: SocketAddr,
    _stop: DropGuard,
}

impl UserAgent {
    /// Binds `bind` (port 0: any) and starts the endpoint. Requests inside a dialog (the far
    /// end's BYE, INFO...) go to their dialog; requests outside any are answered 481.
    pub async fn start(
        bind: SocketAddr,
        name: &str,
    ) -> Result<(UserAgent, DialogStateReceiver), rsipstack::Error> {
        Self::start_trusting(bind, name, None).await
    }

    /// As [`UserAgent::start`], its calls over TLS trusting the authorities of `ca` (PEM).
    pub async fn start_trusting(
        bind: SocketAddr,
        name: &str,
        ca: Option<Vec<u8>>,
    ) -> Result<(UserAgent, DialogStateReceiver), rsipstack::Error> {
        let cancel = CancellationToken::new();
        let transport = TransportLayer::new(cancel.child_token());
        if let Some(ca) = ca {
            transport.set_tls_config(rsipstack::transport::TlsConfig {
                ca_certs: Some(ca),
                ..Default::default()
            });
        }
        let udp = UdpConnection::create_connection(bind, None, Some(cancel.child_token())).await?;
        let addr = udp.get_addr().get_socketaddr()?;
        transport.add_transport(udp.into());
        let endpoint = EndpointBuilder::new()
            .with_user_agent(name)
            .with_cancel_token(cancel.child_token())
            .with_transport_layer(transport)
            .build();
        let mut incoming = endpoint.incoming_transactions()?;
        let dialogs = Arc::new(DialogLayer::new(endpoint.inner.clone()));
        let (state_tx, states) = dialogs.new_dialog_state_channel();
        let inner = endpoint.inner.clone();
        tokio::spawn(async move { inner.serve().await });
        let d = dialogs.clone();
        tokio::spawn(async move {
            while let Some(mut tx) = incoming.recv().await {
                match d.match_dialog(&tx) {
                    Some(mut dialog) => {
                        tokio::spawn(async move { dialog.handle(&mut tx).await });
                    }
                    None => {
                        tokio::spawn(async move {
                            tx.reply(StatusCode::CallTransactionDoesNotExist).await
                        });
                    }
                }
            }
        });
        let agent = UserAgent {
            dialogs,
            state_tx,
            addr,
            _stop: cancel.drop_guard(),
        };
        Ok((agent, states))
    }
}

/// Does what a dialog's new state asks of a caller: an ended dialog is forgotten, and INFO,
/// OPTIONS and UPDATE inside a call are answered 200. Returns the Call-ID and reason of a
/// dialog that ended.
pub fn settle(dialogs: &DialogLayer, state: DialogState) -> Option<(String, TerminatedReason)> {
    match state {
        DialogState::Terminated(id, reason) => {
            dialogs.remove_dialog(&id);
            Some((id.call_id, reason))
        }
        DialogState::Info(_, _, h)
        | DialogState::Options(_, _, h)
        | DialogState::Updated(_, _, h) => {
            tokio::spawn(async move { h.reply(StatusCode::OK).await });
            None
        }
        _ => None,
    }
}
