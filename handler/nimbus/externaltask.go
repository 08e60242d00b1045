package nimbus

import (
	"fmt"
	"time"
)

// DefaultMaxOpenExternalTasks is the default per-tenant limit of open external tasks.
const DefaultMaxOpenExternalTasks = 1000

// ExternalTaskWrite is the body of AddExternalTask (the certified ExternalTaskWriteDto).
type ExternalTaskWrite struct {
	ServiceUPN              string          `json:"serviceUpn"`
	CustomerIdentifier      string          `json:"customerIdentifier"`
	Customer                Customer        `json:"customer"`
	CustomContextParameters []Parameter     `json:"customContextParameters"`
	DistributionPriority    Priority        `json:"distributionPriority"`
	PreferredUsers          []PreferredUser `json:"preferredUsers"`
}

// Validate checks the limits and names the field; the service is checked by the use case.
func (w *ExternalTaskWrite) Validate() error {
	if !ValidUPN(w.ServiceUPN) {
		return Invalid("serviceUpn", "serviceUpn must be the UPN of a service; see GetExternalTasksServices")
	}
	if err := CheckText("customerIdentifier", w.CustomerIdentifier, MaxFieldLength, false); err != nil {
		return err
	}
	if w.DistributionPriority == "" {
		w.DistributionPriority = PriorityNormal
	}
	if !KnownPriority(w.DistributionPriority) {
		return Invalid("distributionPriority", "distributionPriority %q is not a priority (Low, Normal, High, Strict)", w.DistributionPriority)
	}
	// The customer and the rest share Update task's rules.
	u := TaskUpdate{Customer: w.Customer.patch(), CustomContextParameters: w.CustomContextParameters, PreferredUsers: &w.PreferredUsers}
	return u.Validate()
}

// patch presents a whole customer as a patch that sets every field.
func (c *Customer) patch() *CustomerPatch {
	return &CustomerPatch{
		FirstName: &c.FirstName, LastName: &c.LastName, DisplayName: &c.DisplayName, Company: &c.Company,
		JobTitle: &c.JobTitle, Department: &c.Department, StreetAddress: &c.StreetAddress, PostCode: &c.PostCode,
		City: &c.City, State: &c.State, Country: &c.Country, PrimaryTelNumber: &c.PrimaryTelNumber,
		TelNumbers: &c.TelNumbers, UPN: &c.UPN, IMAddress: &c.IMAddress, Email: &c.Email, CustomFields: &c.CustomFields,
	}
}

// ExternalTaskResult answers AddExternalTask (the certified ExternalTaskWriteResult).
type ExternalTaskResult struct {
	ID                 string          `json:"id"`
	Modality           Modality        `json:"modality"`
	Created            time.Time       `json:"created"`
	Type               string          `json:"type"`
	IsAnonymous        bool            `json:"isAnonymous"`
	ServiceID          string          `json:"serviceId"`
	ServiceName        string          `json:"serviceName"`
	ServiceDescription string          `json:"serviceDescription"`
	ServiceDisplayName string          `json:"serviceDisplayName"`
	ServiceUPN         string          `json:"serviceUPN"`
	ServiceTelNumber   string          `json:"serviceTelNumber"`
	PreferredUsers     []PreferredUser `json:"preferredUsers"`
}

// NewExternalTaskResult describes the new task id of service s created at.
func NewExternalTaskResult(id string, s *Service, w *ExternalTaskWrite, at time.Time) ExternalTaskResult {
	users := w.PreferredUsers
	if users == nil {
		users = []PreferredUser{}
	}
	return ExternalTaskResult{
		ID: id, Modality: ModalityExternalTask, Created: at, Type: fmt.Sprint(ModalityExternalTask),
		IsAnonymous: w.CustomerIdentifier == "", ServiceID: s.ID, ServiceName: s.Name, ServiceDescription: s.Description,
		ServiceDisplayName: s.DisplayName, ServiceUPN: s.UPN, ServiceTelNumber: s.TelNumber, PreferredUsers: users,
	}
}
