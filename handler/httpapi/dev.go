package httpapi

import (
	"context"
	"net/http"
	"time"

	"github.com/nimbusflow/connector/handler/nimbus"
)

// devTokenTTL is the lifetime of a dev token: long enough for an afternoon with curl.
const devTokenTTL = 8 * time.Hour

type devTokenRequest struct {
	TenantID string   `json:"tenantId"`
	UPN      string   `json:"upn"`
	ObjectID string   `json:"objectId"`
	AppID    string   `json:"appId"`
	Roles    []string `json:"roles"`
}

type devTokenResponse struct {
	AccessToken string `json:"access_token"`
	TokenType   string `json:"token_type"`
	ExpiresIn   int    `json:"expires_in"`
}

// devToken mints a user token ({tenantId, upn}) or an app token ({tenantId, appId, roles}).
func (s *Server) devToken(w http.ResponseWriter, r *http.Request) {
	var req devTokenRequest
	if err := decodeJSON(w, r, MaxBody, &req); err != nil {
		writeError(w, r, s.log, err)
		return
	}
	token, err := s.mintDevToken(r.Context(), req)
	if err != nil {
		writeError(w, r, s.log, err)
		return
	}
	writeJSON(w, http.StatusOK, devTokenResponse{AccessToken: token, TokenType: "Bearer", ExpiresIn: int(devTokenTTL / time.Second)})
}

func (s *Server) mintDevToken(ctx context.Context, req devTokenRequest) (string, error) {
	if !nimbus.ValidTenantID(req.TenantID) {
		return "", nimbus.Invalid("tenantId", "tenantId must be a GUID.")
	}
	switch {
	case req.UPN != "" && req.AppID != "":
		return "", nimbus.Invalid("appId", "Give either upn (a user token) or appId (an app token), not both.")
	case req.UPN != "":
		if !nimbus.ValidUPN(req.UPN) {
			return "", nimbus.Invalid("upn", "upn must be a user principal name such as anna@contoso.com.")
		}
		return s.cfg.Dev.MintUser(ctx, req.TenantID, req.UPN, req.ObjectID, devTokenTTL)
	case req.AppID != "":
		if err := nimbus.CheckID("appId", req.AppID); err != nil {
			return "", err
		}
		return s.cfg.Dev.MintApp(ctx, req.TenantID, req.AppID, req.Roles, devTokenTTL)
	}
	return "", nimbus.Invalid("upn", "Give upn for a user token or appId for an app token.")
}

func (s *Server) devMetadata(w http.ResponseWriter, r *http.Request) {
	body, err := s.cfg.Dev.Metadata(r.Context(), s.baseURL(r))
	if err != nil {
		writeError(w, r, s.log, err)
		return
	}
	writeRawJSON(w, body)
}

func (s *Server) devKeys(w http.ResponseWriter, r *http.Request) {
	body, err := s.cfg.Dev.JWKS(r.Context())
	if err != nil {
		writeError(w, r, s.log, err)
		return
	}
	writeRawJSON(w, body)
}

func (s *Server) devDemo(w http.ResponseWriter, r *http.Request) {
	if s.cfg.Demo == nil {
		writeError(w, r, s.log, nimbus.NotFound("No demo tenant was seeded (it is seeded in standalone dev mode)."))
		return
	}
	writeJSON(w, http.StatusOK, s.cfg.Demo)
}

func writeRawJSON(w http.ResponseWriter, body []byte) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(body)
}
