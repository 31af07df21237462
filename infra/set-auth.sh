#!/usr/bin/env bash
# Sign-in for people (the board in a browser) and the override endpoint's signing key, after `az deployment
# group create` (docs/deploy.md, "Sign-in"). Safe to run again: it adds what is missing and changes nothing else.
#
#   infra/set-auth.sh RESOURCE_GROUP FUNCTION_APP [EXTRA_HOST ...]
#
# 1. The app registration App Service authentication uses (authClientId) gets the redirect URI of its login
#    flow, https://<host>/.auth/login/aad/callback (for the app's host name and each EXTRA_HOST, e.g. a custom
#    domain in front), next to those it has, and issues ID tokens: App Service's sign-in asks Entra ID for an
#    ID token posted back to that URI (without a client secret), and Entra ID refuses an unlisted URI
#    (AADSTS50011) or an ID token it does not issue (AADSTS700054).
# 2. The override endpoint's signing key: a random secret `promote-override-key` in promote's Key Vault
#    (created once, never overwritten) and the app setting PROMOTE_OVERRIDE_KEY referencing it. The endpoint
#    signs each override it queues with it and the events function checks it: without it, overrides on Azure
#    are refused (503) rather than queued to be rejected. Rotating: docs/deploy.md.
#
# Needs: az logged in as someone who owns the app registration (or Application Administrator) and holds Key
# Vault Secrets Officer on the vault and Website Contributor on the app (docs/deploy.md, "Before you start").
set -euo pipefail

if [ $# -lt 2 ]; then
  echo "usage: $0 RESOURCE_GROUP FUNCTION_APP [EXTRA_HOST ...]" >&2
  exit 2
fi
RG=$1
APP=$2
shift 2
SECRET=promote-override-key
SETTING=PROMOTE_OVERRIDE_KEY

HOST=$(az functionapp show --resource-group "$RG" --name "$APP" --query defaultHostName --output tsv)
CLIENT_ID=$(az webapp auth show --resource-group "$RG" --name "$APP" \
  --query properties.identityProviders.azureActiveDirectory.registration.clientId --output tsv)
if [ -z "$CLIENT_ID" ]; then
  echo "$APP has no Entra ID app registration in its App Service authentication: deploy infra/main.bicep first" >&2
  exit 1
fi

# -- 1. the login flow's redirect URIs and ID tokens ----------------------------------------------------------
uris=()
while IFS= read -r uri; do
  [ -n "$uri" ] && uris+=("$uri")
done < <(az ad app show --id "$CLIENT_ID" --query "web.redirectUris[]" --output tsv)
for host in "$HOST" "$@"; do
  wanted="https://$host/.auth/login/aad/callback"
  found=no
  for uri in "${uris[@]+"${uris[@]}"}"; do
    [ "$uri" = "$wanted" ] && found=yes
  done
  [ "$found" = yes ] || uris+=("$wanted")
done
az ad app update --id "$CLIENT_ID" --web-redirect-uris "${uris[@]}" --enable-id-token-issuance true
echo "app registration $CLIENT_ID: redirect URIs ${uris[*]}; ID tokens issued"

# -- 2. the override endpoint's signing key -------------------------------------------------------------------
# promote's vault (the deployment's keyVaultName output; KV=... when the group holds others)
VAULT=${KV:-$(az keyvault list --resource-group "$RG" --query "[?starts_with(name, 'kv')].name | [0]" --output tsv)}
if [ -z "$VAULT" ]; then
  echo "no Key Vault in $RG: deploy infra/main.bicep first" >&2
  exit 1
fi
if ! az keyvault secret show --vault-name "$VAULT" --name "$SECRET" --query id --output tsv >/dev/null 2>&1; then
  # 48 random bytes; the value goes straight to Key Vault and is never printed
  az keyvault secret set --vault-name "$VAULT" --name "$SECRET" --value "$(openssl rand -base64 48)" --output none
  echo "Key Vault $VAULT: secret $SECRET created"
fi
az functionapp config appsettings set --resource-group "$RG" --name "$APP" --output none \
  --settings "$SETTING=@Microsoft.KeyVault(VaultName=$VAULT;SecretName=$SECRET)"
echo "$APP: $SETTING references $VAULT/$SECRET"
echo "sign in to the board at https://$HOST/.auth/login/aad?post_login_redirect_uri=/api/board/"
