package api

import (
	"context"
	"time"

	"github.com/parleyhq/parley/clientapi"
	"github.com/parleyhq/parley/twilsock"
)

// The client SDKs' side of parley: @twilio/conversations connects to
// /v3/wsconnect (twilsock), signs in with an access token, and tunnels
// its requests through the socket.

// clientPath is where client SDKs connect, as on tsock.<region>.twilio.com.
const clientPath = "/v3/wsconnect"

// newTwilsock makes the client endpoint of s.
func (s *Server) newTwilsock() *twilsock.Server {
	ho := clientapi.HubOptions{App: s.app, Log: s.log}
	if s.metrics != nil {
		fanOut := s.metrics.fanOut
		ho.Sent = func(d time.Duration) { fanOut.Observe(d.Seconds()) }
	}
	s.hub = clientapi.NewHub(ho)
	client := &clientapi.Handler{App: s.app, Hub: s.hub}
	presence := &clientapi.Presence{App: s.app, Log: s.log}
	return twilsock.New(twilsock.Options{Log: s.log, Verify: s.signIn, Upstream: client.Serve, BaseURL: s.baseURL,
		SignedIn: presence.SignedIn,
		Closed:   func(c *twilsock.Conn) { s.hub.Closed(c); presence.Closed(c) },
		// The app's clock: token expiry follows it as verification does.
		Now: s.app.Now})
}

// signIn verifies a client's access token and makes sure its user exists.
func (s *Server) signIn(ctx context.Context, token string) (twilsock.Grant, error) {
	tok, err := s.app.VerifyAccessToken(ctx, token)
	if err != nil {
		return twilsock.Grant{}, err
	}
	u, err := s.app.SignIn(ctx, tok)
	if err != nil {
		return twilsock.Grant{}, err
	}
	return twilsock.Grant{Identity: tok.Identity, UserSid: u.Sid, ServiceSid: tok.ServiceSid,
		PushCredentialSid: tok.PushCredentialSid, Expires: tok.Expires}, nil
}

// Shutdown makes /readyz say 503 (balancers stop sending new requests),
// tells connected clients to reconnect to another node (twilsock close
// 308) and waits for their connections to end, or for ctx; then the hub
// stops hearing the app's events.
func (s *Server) Shutdown(ctx context.Context) error {
	s.draining.Store(true)
	err := s.sock.Shutdown(ctx)
	s.hub.Close()
	if s.metrics != nil {
		s.metrics.stop()
	}
	return err
}
