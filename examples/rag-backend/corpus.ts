/** A document that the sample backend can retrieve and cite. */
export interface CorpusDocument {
  id: string;
  collection: string;
  title: string;
  text: string;
}

/**
 * Bundled documents about AgentFlow, a fictional platform for running AI agent workflows.
 * The text is invented for demos and tests and describes no real product.
 */
export const CORPUS: readonly CorpusDocument[] = [
  {
    id: 'docs-overview',
    collection: 'docs',
    title: 'What is AgentFlow?',
    text:
      'AgentFlow is a platform for building, running and monitoring workflows of AI agents. ' +
      'A workflow chains agents that call language models, tools and company data sources. ' +
      'Teams use AgentFlow to answer support questions, triage tickets and draft reports. ' +
      'The platform has a web console, a CLI and an HTTP API.',
  },
  {
    id: 'docs-install',
    collection: 'docs',
    title: 'Installing the AgentFlow CLI',
    text:
      'The AgentFlow CLI runs on Linux, macOS and Windows with Node.js 20 or later. ' +
      'Install it with npm install --global agentflow-cli and check the version with agentflow --version. ' +
      'The first run of agentflow login opens a browser window to link the CLI to a workspace. ' +
      'Offline machines can use a workspace token from the environment variable AGENTFLOW_TOKEN instead.',
  },
  {
    id: 'docs-workflows',
    collection: 'docs',
    title: 'Defining workflows in YAML',
    text:
      'An AgentFlow workflow is a YAML file that lists steps, and each step names an agent and its inputs. ' +
      'Steps run in order unless a step declares needs, which lets independent steps run in parallel. ' +
      'A workflow can retry a failed step up to five times with exponential backoff. ' +
      'Run a workflow locally with agentflow run workflow.yaml before you deploy it.',
  },
  {
    id: 'docs-connectors',
    collection: 'docs',
    title: 'Connecting data sources',
    text:
      'Connectors let agents read from data sources such as PostgreSQL, S3 buckets and shared drives. ' +
      'Each connector stores its credentials in the workspace vault, never in the workflow file. ' +
      'A connector syncs new and changed documents every fifteen minutes by default. ' +
      'The sync interval can be lowered to one minute on the Team plan.',
  },
  {
    id: 'docs-rag',
    collection: 'docs',
    title: 'Retrieval-augmented answers',
    text:
      'The AgentFlow RAG service splits synced documents into chunks and indexes them for search. ' +
      'A query retrieves the most relevant chunks and passes them to the language model as context. ' +
      'Documents can also be uploaded directly as files, and uploads are indexed within a minute. ' +
      'Every answer lists the documents it cites, so users can check the source. ' +
      'Answers can be streamed as server-sent events in the same format as chat completions.',
  },
  {
    id: 'faq-pricing',
    collection: 'faq',
    title: 'How is AgentFlow priced?',
    text:
      'AgentFlow has a free plan with three workflows and one thousand agent runs per month. ' +
      'The Team plan costs a flat monthly fee per workspace and removes the workflow limit. ' +
      'Enterprise pricing is agreed per contract and adds single sign-on and audit logs. ' +
      'Unused agent runs do not carry over to the next month.',
  },
  {
    id: 'faq-rate-limits',
    collection: 'faq',
    title: 'What rate limits apply to the API?',
    text:
      'The AgentFlow API allows sixty requests per minute per token on the free plan. ' +
      'The Team plan raises the limit to six hundred requests per minute. ' +
      'A request over the limit receives HTTP status 429 with a Retry-After header in seconds. ' +
      'Clients should wait for that many seconds before they retry.',
  },
  {
    id: 'faq-models',
    collection: 'faq',
    title: 'Which language models can agents use?',
    text:
      'Agents can call any hosted model that the workspace administrator has enabled. ' +
      'Each agent pins one model name in its configuration, so upgrades are explicit. ' +
      'Self-hosted models are supported through an OpenAI-compatible endpoint. ' +
      'Model usage counts toward the monthly agent run quota.',
  },
  {
    id: 'policies-retention',
    collection: 'policies',
    title: 'Data retention policy',
    text:
      'AgentFlow keeps workflow run logs for thirty days and then deletes them. ' +
      'Indexed document chunks are kept until the connector that synced them is removed. ' +
      'Workspace administrators can request deletion of all workspace data at any time. ' +
      'Backups that contain deleted data expire within fourteen days.',
  },
  {
    id: 'policies-acceptable-use',
    collection: 'policies',
    title: 'Acceptable use policy',
    text:
      'Customers must not use AgentFlow agents to send spam or to scrape sites that forbid it. ' +
      'Agents must not be instructed to impersonate people or to bypass access controls. ' +
      'AgentFlow may suspend a workspace that breaks this policy after a written warning. ' +
      'Reports of abuse go to the trust and safety team through the support portal.',
  },
  {
    id: 'policies-security',
    collection: 'policies',
    title: 'Security and incident response',
    text:
      'All traffic to AgentFlow services uses TLS 1.2 or later, and stored data is encrypted at rest. ' +
      'Workspace tokens can be scoped to read-only access and rotated without downtime. ' +
      'The security team notifies affected customers of a confirmed incident within seventy-two hours. ' +
      'Customers should report suspected vulnerabilities through the security contact page.',
  },
];
