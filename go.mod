module github.com/nimbusflow/connector

go 1.26
