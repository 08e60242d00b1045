package httpapi

import (
	"net/http"
	"strings"

	"github.com/nimbusflow/connector/handler/nimbus"
)

func (s *Server) testConnection(w http.ResponseWriter, r *http.Request, caller nimbus.Caller) error {
	info, err := s.cfg.Directory.TestConnection(r.Context(), caller)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, info)
	return nil
}

func (s *Server) listAddressBooks(w http.ResponseWriter, r *http.Request, caller nimbus.Caller) error {
	books, err := s.cfg.AddressBooks.List(r.Context(), caller)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, books)
	return nil
}

// externalIDs reads the externalIds query parameter, given as CSV ("a,b"), repeated
// ("externalIds=a&externalIds=b"), or both. The Functions host joins repeated values with
// commas before they reach us, so splitting on commas is the only reading that is the same
// in every mode; an id that itself contains a comma is found through "get all contacts".
func externalIDs(r *http.Request) []string {
	var ids []string
	for _, v := range r.URL.Query()["externalIds"] {
		for _, id := range strings.Split(v, ",") {
			if id = strings.TrimSpace(id); id != "" {
				ids = append(ids, id)
			}
		}
	}
	return ids
}

func (s *Server) getContacts(w http.ResponseWriter, r *http.Request, caller nimbus.Caller) error {
	contacts, err := s.cfg.AddressBooks.Get(r.Context(), caller, r.PathValue("AddressBook"), externalIDs(r))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, contacts)
	return nil
}

func (s *Server) addContact(w http.ResponseWriter, r *http.Request, caller nimbus.Caller) error {
	var c nimbus.Contact
	if err := decodeJSON(w, r, MaxBody, &c); err != nil {
		return err
	}
	out, err := s.cfg.AddressBooks.Add(r.Context(), caller, r.PathValue("AddressBook"), c)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

func (s *Server) updateContact(w http.ResponseWriter, r *http.Request, caller nimbus.Caller) error {
	var c nimbus.Contact
	if err := decodeJSON(w, r, MaxBody, &c); err != nil {
		return err
	}
	out, err := s.cfg.AddressBooks.Update(r.Context(), caller, r.PathValue("AddressBook"), c)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

// removeResult answers RemoveContacts and ClearContacts. The certified definition documents
// no body for them; a count is what a flow can use.
type removeResult struct {
	Removed int `json:"removed"`
}

func (s *Server) removeContacts(w http.ResponseWriter, r *http.Request, caller nimbus.Caller) error {
	var ids []string
	if err := decodeJSON(w, r, MaxBody, &ids); err != nil {
		return err
	}
	n, err := s.cfg.AddressBooks.Remove(r.Context(), caller, r.PathValue("AddressBook"), ids)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, removeResult{Removed: n})
	return nil
}

func (s *Server) clearContacts(w http.ResponseWriter, r *http.Request, caller nimbus.Caller) error {
	n, err := s.cfg.AddressBooks.Clear(r.Context(), caller, r.PathValue("AddressBook"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, removeResult{Removed: n})
	return nil
}
