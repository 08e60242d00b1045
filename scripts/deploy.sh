#!/usr/bin/env bash
# Deploys Nimbus Flow to Azure: the infrastructure in infra/main.bicep, then the app package.
#
# Needs the Azure CLI, signed in (`az login`) to the target subscription. The Bicep CLI is
# fetched by `az` on first use. Nothing secret is read or printed: the deployment uses
# managed identities only.
set -euo pipefail

usage() {
  cat <<'EOF'
Usage: scripts/deploy.sh -g RESOURCE_GROUP [options]

Deploys infra/main.bicep into RESOURCE_GROUP, builds the app with scripts/package.sh and
uploads dist/app.zip to the function app (Flex Consumption one-deploy).

Options:
  -g, --resource-group NAME   target resource group (required)
  -l, --location REGION       create the resource group in REGION if it does not exist
  -p, --parameters VALUE      passed to `az deployment group create --parameters`; repeatable.
                              A file (@infra/main.parameters.json) or KEY=VALUE, for example
                              -p @infra/main.parameters.json -p namePrefix=contoso
      --infra-only            deploy the infrastructure, skip the code
      --code-only             skip the infrastructure; needs --app NAME
      --app NAME              function app name (default: the appName output of the deployment)
  -n, --deployment-name NAME  ARM deployment name (default: nimbusflow)
  -h, --help                  show this help

Example:
  scripts/deploy.sh -g rg-nimbusflow -l westeurope -p @infra/main.parameters.json
EOF
}

die() {
  echo "deploy: $*" >&2
  exit 1
}

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

resource_group=""
location=""
deployment_name="nimbusflow"
app_name=""
endpoint_url=""
ingest_url=""
admin_url=""
ingest_function=""
do_infra=1
do_code=1
params=()

while [ $# -gt 0 ]; do
  case "$1" in
    -g | --resource-group) resource_group="${2:?missing value for $1}"; shift 2 ;;
    -l | --location) location="${2:?missing value for $1}"; shift 2 ;;
    -p | --parameters) params+=("${2:?missing value for $1}"); shift 2 ;;
    -n | --deployment-name) deployment_name="${2:?missing value for $1}"; shift 2 ;;
    --app) app_name="${2:?missing value for $1}"; shift 2 ;;
    --infra-only) do_code=0; shift ;;
    --code-only) do_infra=0; shift ;;
    -h | --help) usage; exit 0 ;;
    *) usage >&2; die "unknown argument: $1" ;;
  esac
done

[ -n "$resource_group" ] || { usage >&2; die "--resource-group is required"; }
[ "$do_infra" -eq 1 ] || [ "$do_code" -eq 1 ] || die "--infra-only and --code-only exclude each other"
[ "$do_infra" -eq 1 ] || [ -n "$app_name" ] || die "--code-only needs --app NAME"

command -v az >/dev/null 2>&1 || die "the Azure CLI (az) is not installed: https://learn.microsoft.com/cli/azure/install-azure-cli"
subscription="$(az account show --query name -o tsv 2>/dev/null)" || die "not signed in: run 'az login' (and 'az account set -s SUBSCRIPTION')"
echo "deploy: subscription '$subscription', resource group '$resource_group'"

if [ "$do_infra" -eq 1 ]; then
  if [ -n "$location" ]; then
    if [ "$(az group exists -n "$resource_group" -o tsv)" != "true" ]; then
      echo "deploy: creating resource group $resource_group in $location"
      az group create -n "$resource_group" -l "$location" -o none
    fi
  fi

  # ${a[@]+...} keeps empty arrays safe under `set -u` in the bash 3.2 that macOS ships.
  param_args=()
  for p in ${params[@]+"${params[@]}"}; do
    param_args+=(--parameters "$p")
  done

  echo "deploy: deploying infra/main.bicep (deployment '$deployment_name')"
  az deployment group create \
    --resource-group "$resource_group" \
    --name "$deployment_name" \
    --template-file infra/main.bicep \
    ${param_args[@]+"${param_args[@]}"} \
    -o none

  output() {
    az deployment group show -g "$resource_group" -n "$deployment_name" \
      --query "properties.outputs.$1.value" -o tsv
  }
  [ -n "$app_name" ] || app_name="$(output appName)"
  endpoint_url="$(output publicBaseUrl)"
  ingest_url="$(output ingestUrl)"
  admin_url="$(output adminBaseUrl)"
  ingest_function="$(output ingestFunctionName)"
  echo "deploy: function app     $app_name"
  echo "deploy: host name        $(output defaultHostName)"
  echo "deploy: endpoint URL     $endpoint_url"
  echo "deploy: identity client  $(output identityClientId)"
  echo "deploy: service bus      $(output serviceBusNamespace)"
fi

# next_steps HOST prints what the operator needs after the deployment (infra/README.md). It
# says where the Ingest function key is, never the key itself.
next_steps() {
  local base="${endpoint_url:-https://$1}"
  cat <<EOF

deploy: next steps (infra/README.md, "After the deployment"):
  1. Connections use this Endpoint URL:
       $base
  2. Nimbus core posts task events to
       ${ingest_url:-$base/internal/v1/task-events}
     with an app token (role Nimbus.Core) and the Ingest function key (header x-functions-key).
     Fetch the key and hand it to core through your secret store:
       az functionapp function keys list -g $resource_group -n $app_name --function-name ${ingest_function:-Ingest} --query default -o tsv
  3. Import the first tenant with an operator app token (role Nimbus.Admin):
       curl -X PUT "${admin_url:-$base/manage/v1}/tenants/TENANT_ID/directory" \\
         -H "Authorization: Bearer \$OPERATOR_TOKEN" -H 'Content-Type: application/json' --data @directory.json
EOF
}

if [ "$do_code" -eq 1 ]; then
  [ -n "$app_name" ] || die "could not determine the function app name"
  scripts/package.sh
  echo "deploy: uploading dist/app.zip to $app_name"
  az functionapp deployment source config-zip \
    --resource-group "$resource_group" \
    --name "$app_name" \
    --src dist/app.zip \
    -o none
  host="$(az functionapp show -g "$resource_group" -n "$app_name" --query defaultHostName -o tsv)"
  echo "deploy: done. Smoke test: curl -i https://$host/v1/diagnostics/testconnection"
  echo "deploy: without a token the handler answers 401 with WWW-Authenticate: Bearer"
  next_steps "$host"
else
  next_steps "$(az functionapp show -g "$resource_group" -n "$app_name" --query defaultHostName -o tsv)"
fi
