package api

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/twilsock"
)

// The client SDKs' side of parley: @twilio/conversations connects to
// /v3/wsconnect (twilsock), signs in with an access token, and tunnels
// its requests through the socket.

// clientPath is where client SDKs connect, as on tsock.<region>.twilio.com.
const clientPath = "/v3/wsconnect"

// newTwilsock makes the client endpoint of s.
func (s *Server) newTwilsock() *twilsock.Server {
	return twilsock.New(twilsock.Options{Log: s.log, Verify: s.signIn, Upstream: s.clientRequest})
}

// signIn verifies a client's access token and makes sure its user exists.
func (s *Server) signIn(ctx context.Context, token string) (twilsock.Grant, error) {
	tok, err := s.app.VerifyAccessToken(ctx, token)
	if err != nil {
		return twilsock.Grant{}, err
	}
	if _, err := s.app.SignIn(ctx, tok); err != nil {
		return twilsock.Grant{}, err
	}
	return twilsock.Grant{Identity: tok.Identity, ServiceSid: tok.ServiceSid, Expires: tok.Expires}, nil
}

// clientRequest answers a request a client tunnels through its socket.
// The client API and the Sync views it reads come in the next steps of
// issue 14; until then every path is Twilio's 404.
func (s *Server) clientRequest(_ context.Context, _ *twilsock.Conn, req twilsock.HTTPRequest, _ []byte) twilsock.Response {
	return clientError(parley.NotFound(), req.Path)
}

// clientError is an error answer to a tunnelled request, in Twilio's JSON.
func clientError(e *parley.Error, path string) twilsock.Response {
	status := statusOf(e.Kind)
	msg := e.Message
	if e.Code == 20404 && msg == "" {
		msg = fmt.Sprintf("The requested resource %s was not found", path)
	}
	b, _ := json.Marshal(map[string]any{"code": e.Code, "message": msg, "status": status,
		"more_info": fmt.Sprintf("https://www.twilio.com/docs/errors/%d", e.Code)})
	return twilsock.Response{Status: status, Body: b}
}

// Shutdown tells connected clients to reconnect to another node (twilsock
// close 308) and waits for their connections to end, or for ctx.
func (s *Server) Shutdown(ctx context.Context) error { return s.sock.Shutdown(ctx) }
