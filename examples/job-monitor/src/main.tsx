import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { ApolloProvider } from '@apollo/client/react';
import { createApolloClient } from './apollo';
import { loadConfig } from './config';
import { App } from './App';
import './styles.css';

const config = await loadConfig();
createRoot(document.getElementById('root')!).render(
  <StrictMode>
    <ApolloProvider client={createApolloClient(config)}>
      <App />
    </ApolloProvider>
  </StrictMode>,
);
