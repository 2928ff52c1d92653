package core

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"strconv"
	"strings"
	"time"

	"github.com/parleyhq/parley"
)

// Media links: the SDK shows a message's media through
// links.content_direct_temporary, a URL a browser loads without
// credentials (an <img src> sends none), which on Twilio is a pre-signed
// URL of its file store that expires after a few minutes. parley's is a
// token naming the service, the media and the expiry, signed with the
// account's page key (every node has it), valid for MediaLinkTTL.

// MediaLinkTTL is how long a media link works: five minutes, the
// lifetime of Twilio's temporary content URLs.
const MediaLinkTTL = 5 * time.Minute

// MediaLink returns a link token for media sid of service svc, valid
// for MediaLinkTTL from now.
func (a *App) MediaLink(svc, sid string) string {
	payload := svc + "." + sid + "." + strconv.FormatInt(a.now().Add(MediaLinkTTL).Unix(), 10)
	return payload + "." + base64.RawURLEncoding.EncodeToString(a.mediaLinkMAC(payload))
}

func (a *App) mediaLinkMAC(payload string) []byte {
	mac := hmac.New(sha256.New, a.account.PageKey)
	mac.Write([]byte("parley media link\x00" + payload))
	return mac.Sum(nil)
}

// OpenMediaLink opens the media a link token names, if the token is
// parley's and has not expired; any other token is a 404, as an unknown
// URL is.
func (a *App) OpenMediaLink(ctx context.Context, token string) (parley.Media, *MediaContent, error) {
	parts := strings.Split(token, ".")
	if len(parts) != 4 {
		return parley.Media{}, nil, parley.NotFound()
	}
	payload := strings.Join(parts[:3], ".")
	sig, err := base64.RawURLEncoding.DecodeString(parts[3])
	if err != nil || !hmac.Equal(sig, a.mediaLinkMAC(payload)) {
		return parley.Media{}, nil, parley.NotFound()
	}
	exp, err := strconv.ParseInt(parts[2], 10, 64)
	if err != nil || !a.now().Before(time.Unix(exp, 0)) {
		return parley.Media{}, nil, parley.Errorf(parley.KindForbidden, 20403, "Forbidden: the media link has expired")
	}
	return a.OpenMedia(ctx, parts[0], parts[1])
}
